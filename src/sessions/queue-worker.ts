import type { Logger } from '../logger';
import { JOB_TOPICS, type Job, type JobQueue, type JobTopic } from '../store/ports';

export interface JobHandler {
  /** Does the job and settles it in the store; throws to have it tried again later. */
  run(job: Job, signal: AbortSignal): Promise<void>;
  /** The job is past its dropAt: settle it without doing it. */
  drop(job: Job): Promise<void>;
  /** True while trying would be pointless (its destination's circuit is open): nothing is claimed. */
  paused?(): boolean;
}

export interface QueueWorkerOptions {
  /** Pause between polls when there was nothing more to do. */
  intervalMs: number;
  /** Jobs claimed per poll. */
  batch: number;
  /** How long a claimed job is hidden from other replicas' workers. */
  leaseMs: number;
  /** Backoff after the n-th failure: base * 2^n, capped, with jitter. */
  backoffBaseMs: number;
  backoffMaxMs: number;
}

export const defaultQueueWorkerOptions: QueueWorkerOptions = {
  intervalMs: 1_000,
  batch: 20,
  leaseMs: 30_000,
  backoffBaseMs: 1_000,
  backoffMaxMs: 60_000,
};

export interface QueueWorkerDeps {
  store: JobQueue;
  /** A topic without a handler here waits for a replica that has one (e.g. webhooks configured). */
  handlers: Partial<Record<JobTopic, JobHandler>>;
  /** Sweeps up to `limit` lapsed sessions out of the registry (every poll); resolves how many. */
  sweepExpired(limit: number): Promise<number>;
  logger: Logger;
  clock: () => number;
  options?: Partial<QueueWorkerOptions>;
}

/**
 * Works the durable queue on every replica: claims due jobs (each partition's head, leased so
 * that one replica has it at a time), runs each by topic, and reschedules failures with backoff.
 * It also sweeps lapsed sessions out of the registry. Every replica runs one; on Redis they share
 * the work, and a replica started after a crash picks up what the dead one left.
 *
 * Each topic this replica has a handler for is worked by a lane of its own, polling on its own
 * timer: a termination never waits behind a batch of slow webhook deliveries, and a lane whose
 * handler is paused (the receiver's circuit is open) claims nothing until it is not.
 */
export function createQueueWorker(deps: QueueWorkerDeps) {
  const options = { ...defaultQueueWorkerOptions, ...deps.options };
  const { store, logger, clock } = deps;
  const stopping = new AbortController();

  function backoff(attempts: number): number {
    const ceiling = Math.min(options.backoffMaxMs, options.backoffBaseMs * 2 ** attempts);
    return ceiling / 2 + (Math.random() * ceiling) / 2;
  }

  async function work(handler: JobHandler, job: Job): Promise<void> {
    try {
      if (clock() >= job.dropAt) await handler.drop(job);
      else await handler.run(job, stopping.signal);
    } catch (err) {
      // Cut short by shutdown: hand it back at once rather than leave it leased to a stopped worker.
      if (stopping.signal.aborted) {
        await store.retryJob(job.id, clock()).catch(() => undefined);
        return;
      }
      logger.debug({ err, job: job.id, attempts: job.attempts + 1 }, 'job failed; retrying later');
      await store.retryJob(job.id, clock() + backoff(job.attempts)).catch(() => undefined);
    }
  }

  const lanes = JOB_TOPICS.flatMap((topic) => {
    const handler = deps.handlers[topic];
    return handler === undefined ? [] : [{ topic, handler, timer: undefined as NodeJS.Timeout | undefined }];
  });
  const running = new Set<Promise<void>>();

  /** One poll of a lane; true when it may have left due work behind (a full batch). */
  async function poll(lane: (typeof lanes)[number]): Promise<boolean> {
    // The lapsed-session sweep rides with the first lane (terminations: it queues their events).
    const expired = lane === lanes[0] ? await deps.sweepExpired(options.batch).catch(() => 0) : 0;
    if (lane.handler.paused?.() === true) return expired === options.batch;
    const jobs = await store.claimJobs(options.batch, options.leaseMs, lane.topic).catch((err: unknown) => {
      logger.debug({ err, topic: lane.topic }, 'could not claim jobs');
      return [];
    });
    await Promise.all(jobs.map((job) => work(lane.handler, job)));
    return jobs.length === options.batch || expired === options.batch;
  }

  function schedule(lane: (typeof lanes)[number], delayMs: number): void {
    if (stopping.signal.aborted) return;
    lane.timer = setTimeout(() => {
      const done = poll(lane).then(
        (more) => schedule(lane, more ? 0 : options.intervalMs),
        () => schedule(lane, options.intervalMs),
      );
      running.add(done);
      void done.finally(() => running.delete(done));
    }, delayMs);
    lane.timer.unref();
  }

  return {
    start(): void {
      for (const lane of lanes) schedule(lane, 0);
    },
    /** Polls every lane now (tests; after a fault clears) and resolves when those polls are done. */
    async drain(): Promise<void> {
      for (const lane of lanes) {
        while (await poll(lane)) {
          // A full batch: there may be more.
        }
      }
    },
    /** Stops polling and aborts jobs under way; what is left stays queued for the next worker. */
    async stop(): Promise<void> {
      stopping.abort();
      for (const lane of lanes) clearTimeout(lane.timer);
      await Promise.all(running);
    },
  };
}

export type QueueWorker = ReturnType<typeof createQueueWorker>;
