import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logger';
import type { Metrics, TerminationReason } from '../metrics';
import type { AvaturnGateway } from '../upstreams/types';

export interface Terminator {
  /** One attempt, errors to the caller (a user's DELETE sees them). */
  terminateNow(sessionId: string, reason: TerminationReason): Promise<void>;
  /**
   * Ends a session nobody will be handed, retrying with backoff. Resolves true once Avaturn has
   * confirmed it, false when every attempt failed (the session then ends by its own timeouts).
   */
  compensate(sessionId: string, reason: TerminationReason): Promise<boolean>;
  /** Waits for every compensation in flight (shutdown, tests). */
  settle(): Promise<void>;
}

export function createTerminator(deps: {
  avaturn: AvaturnGateway;
  logger: Logger;
  metrics: Metrics;
  retryDelaysMs?: number[];
}): Terminator {
  const delays = deps.retryDelaysMs ?? [250, 1000, 3000];
  const inFlight = new Set<Promise<boolean>>();

  async function terminateNow(sessionId: string, reason: TerminationReason): Promise<void> {
    const outcome = await deps.avaturn.terminateSession(sessionId);
    deps.metrics.sessionsTerminated.inc({ reason });
    deps.logger.info({ sessionId, reason, outcome }, 'session terminated');
  }

  async function retrying(sessionId: string, reason: TerminationReason): Promise<boolean> {
    for (let attempt = 0; attempt <= delays.length; attempt++) {
      try {
        await terminateNow(sessionId, reason);
        return true;
      } catch (err) {
        const delay = delays[attempt];
        if (delay === undefined) {
          deps.metrics.terminationsAbandoned.inc();
          deps.logger.error(
            { sessionId, reason, err },
            'could not terminate session; it ends by its own timeouts',
          );
          return false;
        }
        await sleep(delay);
      }
    }
    return false;
  }

  return {
    terminateNow,
    compensate(sessionId, reason) {
      const run = retrying(sessionId, reason);
      inFlight.add(run);
      void run.finally(() => inFlight.delete(run));
      return run;
    },
    async settle() {
      await Promise.all([...inFlight]);
    },
  };
}
