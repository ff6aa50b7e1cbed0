import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError, isAppError } from '../errors';
import { sendProblem } from './problem';

interface BodyParserError {
  type?: string;
  status?: number;
}

/** body-parser and raw-body errors carry a `type`; map each to the contract's code. */
function fromBodyParser(err: BodyParserError): AppError | undefined {
  switch (err.type) {
    case 'entity.too.large':
      return new AppError('payload-too-large', 'The request body is larger than the limit.');
    case 'entity.parse.failed':
      return new AppError('invalid-request', 'The request body is not a JSON object.');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new AppError('unsupported-media-type', 'The request body encoding or charset is not supported.');
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
      return new AppError('invalid-request', 'The request body could not be read.');
    default:
      return undefined;
  }
}

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
    (typeof err === 'object' && err !== null ? fromBodyParser(err as BodyParserError) : undefined) ??
    fromRouter(err) ??
    new AppError('internal', 'Something went wrong on our side.', { cause: err });
  // pino-http writes the one completion line per request: give it the code, and the cause on 5xx.
  res.locals.problemCode = appError.code;
  if (appError.status >= 500) (res as { err?: unknown }).err = appError.cause ?? appError;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendProblem(res, appError, String(req.id ?? ''));
};
