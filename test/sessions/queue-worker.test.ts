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

  const job = (id: string, topic: 'event' | 'terminate') => ({
    id,
    topic,
    partition: id,
    payload: {},
    dueAt: 0,
    dropAt: Date.now() + 60_000,
  });

  it('ends a termination while a batch of event deliveries hangs, and claims no event while their handler is paused', async () => {
    const store = createMemoryStore();
    for (let i = 0; i < 5; i++) await store.enqueue(job(`e${i}`, 'event'));
    const ran: string[] = [];
    let paused = false;
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    const worker = createQueueWorker({
      store,
      handlers: {
        event: {
          // Each delivery hangs until released, then fails (a receiver that times out).
          run: async (one) => {
            ran.push(one.id);
            await released;
            throw new Error('receiver down');
          },
          drop: async () => undefined,
          paused: () => paused,
        },
        terminate: {
          run: async (one) => {
            ran.push(one.id);
            await store.ackJob(one.id);
          },
          drop: async () => undefined,
        },
      },
      sweepExpired: async () => 0,
      logger: createLogger('silent'),
      clock: Date.now,
      options: { intervalMs: 10, leaseMs: 60_000, backoffBaseMs: 1, backoffMaxMs: 1 },
    });
    worker.start();
    try {
      await eventually(() => expect(ran).toHaveLength(5));
      await store.enqueue(job('t1', 'terminate'));
      await eventually(() => expect(ran).toContain('t1'));

      // They fail and are due again at once, but while paused nothing claims them.
      paused = true;
      release();
      const before = ran.length;
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(ran).toHaveLength(before);
      paused = false;
      await eventually(() => expect(ran.length).toBeGreaterThan(before));
    } finally {
      await worker.stop();
    }
  });
});
