import type { RequestHandler, Response } from 'express';

export interface Drain {
  /** First in the chain: tracks every request until its response closes. */
  track: RequestHandler;
  isDraining(): boolean;
  /** From now on every answer carries `Connection: close`, including those already in flight. */
  start(): void;
  /** Resolves once no request is in flight. */
  settled(): Promise<void>;
}

/**
 * Shutdown without stranding keep-alive clients: an answer sent while draining ends its
 * connection, so no socket outlives its last request and the server can close.
 */
export function createDrain(): Drain {
  const inFlight = new Set<Response>();
  let draining = false;
  let waiters: Array<() => void> = [];
  const closeAfterAnswer = (res: Response) => {
    if (!res.headersSent) res.setHeader('Connection', 'close');
  };
  const wakeIfSettled = () => {
    if (inFlight.size > 0) return;
    for (const wake of waiters) wake();
    waiters = [];
  };

  return {
    track(_req, res, next) {
      inFlight.add(res);
      res.once('close', () => {
        inFlight.delete(res);
        wakeIfSettled();
      });
      if (draining) closeAfterAnswer(res);
      next();
    },
    isDraining: () => draining,
    start() {
      draining = true;
      for (const res of inFlight) closeAfterAnswer(res);
    },
    settled() {
      return new Promise((resolve) => {
        waiters.push(resolve);
        wakeIfSettled();
      });
    },
  };
}
