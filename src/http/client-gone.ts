import type { RequestHandler, Response } from 'express';

/**
 * Tracks, from the very first middleware, whether the client hangs up before its answer is written:
 * a hang-up while the rate limiter, authentication or body parsing run must be seen as well as one
 * during the create.
 */
export const trackClientGone: RequestHandler = (req, res, next) => {
  const controller = new AbortController();
  res.locals.clientGone = controller.signal;
  const gone = () => {
    if (!res.writableFinished) controller.abort();
  };
  if (req.socket.destroyed) gone();
  else res.once('close', gone);
  next();
};

export function clientGoneOf(res: Response): AbortSignal {
  return (res.locals.clientGone as AbortSignal | undefined) ?? new AbortController().signal;
}
