import type { Logger } from '../logger';
import type { JobQueue } from '../store/ports';

export interface OutboxWatchOptions {
  store: Pick<JobQueue, 'outboxDropped'>;
  logger: Logger;
  clock: () => number;
  /** How often the shared drop count is read. */
  checkEveryMs?: number;
  /** At most one warning per this long. */
  warnEveryMs?: number;
}

/**
 * Warns when the outbox was full and events were dropped (the store counts them, across replicas),
 * at most once a minute: a receiver that is down for a day costs one line a minute, not one per event.
 */
export function createOutboxWatch(options: OutboxWatchOptions) {
  const { store, logger, clock } = options;
  const checkEveryMs = options.checkEveryMs ?? 1_000;
  const warnEveryMs = options.warnEveryMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  /** The count last warned about (or seen at start); undefined until the first read. */
  let reported: number | undefined;
  let lastWarning = Number.NEGATIVE_INFINITY;

  async function check(): Promise<void> {
    const dropped = await store.outboxDropped().catch(() => undefined);
    if (dropped === undefined) return;
    if (reported === undefined || dropped < reported) {
      reported = dropped;
      return;
    }
    if (dropped === reported || clock() - lastWarning < warnEveryMs) return;
    logger.warn(
      { droppedEvents: dropped - reported, droppedTotal: dropped },
      'webhook outbox full (EVENTS_OUTBOX_MAX_JOBS): oldest undelivered events dropped',
    );
    reported = dropped;
    lastWarning = clock();
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => void check().finally(schedule), checkEveryMs);
    timer.unref();
  }

  return {
    start(): void {
      void check().finally(schedule);
    },
    stop(): void {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
