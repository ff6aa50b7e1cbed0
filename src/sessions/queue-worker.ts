import type { Logger } from '../logger';
import type { Job, JobQueue, JobTopic } from '../store/ports';

export interface JobHandler {
  /** Does the job and settles it in the store; throws to have it tried again later. */
  run(job: Job, signal: AbortSignal): Promise<void>;
  /** The job is past its dropAt: settle it without doing it. */
  drop(job: Job): Promise<void>;
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
 */
export function createQueueWorker(deps: QueueWorkerDeps) {
  const options = { ...defaultQueueWorkerOptions, ...deps.options };
  const { store, logger, clock } = deps;
  const stopping = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  function backoff(attempts: number): number {
    const ceiling = Math.min(options.backoffMaxMs, options.backoffBaseMs * 2 ** attempts);
    return ceiling / 2 + (Math.random() * ceiling) / 2;
  }

  async function work(job: Job): Promise<void> {
    const handler = deps.handlers[job.topic];
    try {
      if (handler === undefined) throw new Error(`no handler for ${job.topic} jobs on this replica`);
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

  /** One poll; true when it may have left due work behind (a full batch). */
  async function poll(): Promise<boolean> {
    const expired = await deps.sweepExpired(options.batch).catch(() => 0);
    const jobs = await store.claimJobs(options.batch, options.leaseMs).catch((err: unknown) => {
      logger.debug({ err }, 'could not claim jobs');
      return [];
    });
    await Promise.all(jobs.map(work));
    return jobs.length === options.batch || expired === options.batch;
  }

  function schedule(delayMs: number): void {
    if (stopping.signal.aborted) return;
    timer = setTimeout(() => {
      running = poll().then(
        (more) => schedule(more ? 0 : options.intervalMs),
        () => schedule(options.intervalMs),
      );
    }, delayMs);
    timer.unref();
  }

  return {
    start(): void {
      schedule(0);
    },
    /** Polls now (tests; after a fault clears) and resolves when that poll is done. */
    async drain(): Promise<void> {
      while (await poll()) {
        // A full batch: there may be more.
      }
    },
    /** Stops polling and aborts jobs under way; what is left stays queued for the next worker. */
    async stop(): Promise<void> {
      stopping.abort();
      clearTimeout(timer);
      await running;
    },
  };
}

export type QueueWorker = ReturnType<typeof createQueueWorker>;
