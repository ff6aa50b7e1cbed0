import { defaultQueueWorkerOptions } from '../../src/sessions/queue-worker';
import { createRedisStore } from '../../src/store/redis/redis-store';
import type { SessionStore } from '../../src/store/ports';
import { buildTestApp, createSessionFor, type TestApp } from '../helpers/build-test-app';
import { createdEventJob } from '../helpers/event-jobs';
import { startRedisServer, type RedisServer } from '../helpers/redis-server';
import { sleep } from '../helpers/waiting';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver';

const backlog = 400_000;

/**
 * Queues `count` overdue session.created events through the store's own enqueue, many calls in
 * flight at once (ioredis pipelines them); resolves how long it took.
 */
async function seedOverdueEvents(store: SessionStore, count: number): Promise<number> {
  const started = Date.now();
  const at = started - 60 * 60_000;
  // Enough in flight to pipeline, few enough that none waits past the client's 1 s command timeout.
  const inFlight = 1_000;
  for (let first = 0; first < count; first += inFlight) {
    const calls: Promise<void>[] = [];
    for (let i = first; i < Math.min(count, first + inFlight); i++) {
      calls.push(store.enqueue(createdEventJob('backlog', i, at, at + i)));
    }
    await Promise.all(calls);
  }
  return Date.now() - started;
}

/** A DELETE that Avaturn refuses once, then how long until the session is gone upstream and from the list. */
async function msUntilRefusedTerminationConfirmed(t: TestApp, user: string): Promise<number> {
  const id = await createSessionFor(t, user);
  t.sim.inject({ route: 'avaturn.terminate', status: 500, times: 1 });
  const started = Date.now();
  await t.http.delete(`/session/${id}`).set('Authorization', await t.bearer(user));
  const bearer = await t.bearer(user);
  for (;;) {
    const upstream = t.sim.liveSessions().some((s) => s.sessionId === id);
    const list = await t.http.get('/sessions').set('Authorization', bearer);
    const listed = (list.body as { sessions: unknown[] }).sessions.length;
    if (!upstream && listed === 0) return Date.now() - started;
    if (Date.now() - started > 60_000) throw new Error('the termination was not confirmed within 60 s');
    await sleep(100);
  }
}

describe('terminations with 400,000 overdue events queued and the receiver down (Redis of the test’s own)', () => {
  let redis: RedisServer;
  let receiver: WebhookReceiver;
  let seeder: SessionStore;
  let t: TestApp;
  beforeAll(async () => {
    redis = await startRedisServer();
    receiver = await startWebhookReceiver();
    await receiver.down();
    seeder = createRedisStore({ url: redis.url, outboxMaxJobs: 1_000_000 });
    t = await buildTestApp({
      env: {
        REDIS_URL: redis.url,
        EVENTS_WEBHOOK_URL: receiver.url,
        EVENTS_WEBHOOK_SECRET: receiver.secret,
        EVENTS_OUTBOX_MAX_JOBS: '1000000',
      },
      // The worker as it runs in production: polls once a second, backs off from one second.
      deps: { queue: defaultQueueWorkerOptions },
    });
  });
  afterAll(async () => {
    await t.close();
    await seeder.close();
    await receiver.close();
    await redis.close();
  });

  it('confirms a termination Avaturn refused once as fast as with an empty queue (± 2 s), with the broker and Redis each under 10 % of a core', async () => {
    const empty = await msUntilRefusedTerminationConfirmed(t, 'alice');

    const seedMs = await seedOverdueEvents(seeder, backlog);
    // The backlog, and alice's two events before it.
    expect((await seeder.queueDepth()).event).toBe(backlog + 2);
    // Let the worker meet the dead receiver and its circuit open.
    await sleep(3_000);

    const full = await msUntilRefusedTerminationConfirmed(t, 'bob');
    const redisCpuSeconds = async () => {
      const info = await redis.admin.info('cpu');
      return (
        Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1]) + Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1])
      );
    };
    const cpuBefore = process.cpuUsage();
    const redisBefore = await redisCpuSeconds();
    const wallBefore = performance.now();
    await sleep(5_000);
    const cpu = process.cpuUsage(cpuBefore);
    const wallMs = performance.now() - wallBefore;
    const coreShare = (cpu.user + cpu.system) / 1_000 / wallMs;
    const redisShare = ((await redisCpuSeconds()) - redisBefore) / (wallMs / 1_000);

    console.info(
      `seeded ${backlog} events in ${seedMs} ms; termination confirmed in ${empty} ms (empty queue) and ${full} ms (backlog); broker CPU ${(coreShare * 100).toFixed(1)} % of a core, Redis ${(redisShare * 100).toFixed(1)} %`,
    );
    expect(Math.abs(full - empty)).toBeLessThanOrEqual(2_000);
    expect(coreShare).toBeLessThan(0.1);
    expect(redisShare).toBeLessThan(0.1);
    expect(receiver.received).toEqual([]);
    expect((await seeder.queueDepth()).event).toBeGreaterThanOrEqual(backlog);
  }, 180_000);
});
