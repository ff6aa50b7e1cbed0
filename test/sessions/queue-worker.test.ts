import { createLogger } from '../../src/logger';
import { createMemoryStore } from '../../src/store/memory/memory-store';
import { createQueueWorker } from '../../src/sessions/queue-worker';
import { eventually } from '../helpers/waiting';

describe('the queue worker', () => {
  it('hands a job cut short by its shutdown back to the queue at once, not after its lease', async () => {
    const store = createMemoryStore();
    await store.enqueue({
      id: 'e1',
      topic: 'event',
      partition: 'p',
      payload: {},
      dueAt: 0,
      dropAt: Date.now() + 60_000,
    });
    let started = false;
    const worker = createQueueWorker({
      store,
      handlers: {
        event: {
          run: (_job, signal) =>
            new Promise((_resolve, reject) => {
              started = true;
              signal.addEventListener('abort', () => reject(new Error('stopped')));
            }),
          drop: async () => undefined,
        },
      },
      sweepExpired: async () => 0,
      logger: createLogger('silent'),
      clock: Date.now,
      options: { intervalMs: 10, leaseMs: 60_000 },
    });
    worker.start();
    await eventually(() => expect(started).toBe(true));
    await worker.stop();

    expect((await store.claimJobs(10, 1_000)).map((job) => job.id)).toEqual(['e1']);
  });
});
