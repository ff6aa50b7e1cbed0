import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError, isAppError } from '../errors';
import { hasBody } from './json-body';
import { sendProblem } from './problem';

/**
 * The router throws a URIError (status 400) when a path parameter is not valid percent-encoding;
 * the only parameters are session ids, and a malformed id is a 404 like any unknown one.
 */
function fromRouter(err: unknown): AppError | undefined {
  return err instanceof URIError ? new AppError('not-found', 'No such session.') : undefined;
}

export const notFoundHandler: RequestHandler = () => {
  throw new AppError('not-found', 'No such route.');
};

export const errorHandler: ErrorRequestHandler = (err: unknown, req, res, _next) => {
  const appError =
    (isAppError(err) ? err : undefined) ??
    fromRouter(err) ??
    new AppError('internal', 'Something went wrong on our side.', { cause: err });
  // pino-http writes the one completion line per request: give it the code, and the cause on 5xx.
  res.locals.problemCode = appError.code;
  if (appError.status >= 500) (res as { err?: unknown }).err = appError.cause ?? appError;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // Answered before its body arrived: close rather than read and discard the rest.
  if (hasBody(req.headers) && !req.complete) res.setHeader('Connection', 'close');
  sendProblem(res, appError, String(req.id ?? ''));
};
