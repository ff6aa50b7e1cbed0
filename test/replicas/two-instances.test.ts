import { randomUUID } from 'node:crypto';
import type { RedisConnection } from '../../src/config/types';
import { createRedisStore } from '../../src/store/redis/redis-store';
import { startSimulator, type Simulator } from '../../src/simulator';
import { buildTestApp, expectProblem, type TestApp } from '../helpers/build-test-app';
import {
  redisDeployment,
  redisModes,
  redisUrl,
  type RedisMode,
  useRedisDeployment,
} from '../helpers/redis-deployment';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy';

/** Two brokers, as two replicas would be: separate apps and Redis connections, one keyspace, one simulator. */
async function twoReplicas(
  mode: RedisMode,
  sim: Simulator,
  env: Record<string, string>,
): Promise<[TestApp, TestApp]> {
  const deployment = await redisDeployment(mode);
  const keyPrefix = `test:${randomUUID()}:`;
  const replicaEnv = { ...deployment.env, ...env };
  return [
    await replica(sim, replicaEnv, deployment.connection, keyPrefix),
    await replica(sim, replicaEnv, deployment.connection, keyPrefix),
  ];
}

function replica(
  sim: Simulator,
  env: Record<string, string>,
  connection: RedisConnection,
  keyPrefix: string,
): Promise<TestApp> {
  return buildTestApp({ simulator: sim, env, deps: { store: createRedisStore({ connection, keyPrefix }) } });
}

async function post(t: TestApp, user: string, headers: Record<string, string> = {}, body: object = {}) {
  return t.http
    .post('/session')
    .set('Authorization', await t.bearer(user))
    .set(headers)
    .send(body);
}

describe.each(redisModes)('two broker replicas sharing one Redis (%s)', (mode) => {
  useRedisDeployment(mode);
  let sim: Simulator;
  let replicas: TestApp[] = [];
  beforeEach(async () => {
    sim = await startSimulator();
  });
  afterEach(async () => {
    await Promise.all(replicas.map((r) => r.close()));
    replicas = [];
    await sim.close();
  });

  describe('20 parallel creates for one user with cap 3 and policy reject', () => {
    it('lets exactly 3 through, answers the rest 429 session-limit, and leaves exactly 3 live upstream', async () => {
      const [a, b] = (replicas = await twoReplicas(mode, sim, {
        MAX_SESSIONS_PER_USER: '3',
        SESSION_LIMIT_POLICY: 'reject',
      }));
      sim.inject({ route: 'avaturn.create', latencyMs: { min: 20, max: 80 }, times: 0 });
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => post(i % 2 ? a! : b!, 'alice')));
      const statuses = answers.map((res) => res.status);
      expect(statuses.filter((s) => s === 201)).toHaveLength(3);
      for (const res of answers.filter((r) => r.status !== 201)) expectProblem(res, 429, 'session-limit');
      expect(sim.liveSessions()).toHaveLength(3);
      expect(sim.ledger().sessions).toHaveLength(3);
    });
  });

  describe('20 parallel creates for one user with cap 2 and policy replace-oldest', () => {
    it('never leaves the user more than 2 live sessions, and the registry matches upstream', async () => {
      const [a, b] = (replicas = await twoReplicas(mode, sim, { MAX_SESSIONS_PER_USER: '2' }));
      sim.inject({ route: 'avaturn.create', latencyMs: { min: 10, max: 60 }, times: 0 });
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => post(i % 2 ? a! : b!, 'alice')));
      for (const res of answers.filter((r) => r.status !== 201)) expectProblem(res, 429, 'session-limit');
      await Promise.all(replicas.map((r) => r.broker.terminations.settle()));
      const live = sim.liveSessions().map((s) => s.sessionId);
      expect(live.length).toBeGreaterThanOrEqual(1);
      expect(live.length).toBeLessThanOrEqual(2);
      const listed = await b!.http.get('/sessions').set('Authorization', await b!.bearer('alice'));
      expect(listed.body.sessions.map((s: { session_id: string }) => s.session_id).sort()).toEqual(
        live.sort(),
      );
    });

    it('ends the earlier sessions upstream as later ones replace them, whichever replica serves', async () => {
      const [a, b] = (replicas = await twoReplicas(mode, sim, { MAX_SESSIONS_PER_USER: '2' }));
      const ids: string[] = [];
      for (const replica of [a!, b!, a!, b!]) ids.push((await post(replica, 'alice')).body.session_id);
      const state = new Map(sim.ledger().sessions.map((s) => [s.sessionId, s.state]));
      expect(ids.map((id) => state.get(id))).toEqual(['ended', 'ended', 'live', 'live']);
    });
  });

  it('lists and deletes through one replica a session created through the other', async () => {
    const [a, b] = (replicas = await twoReplicas(mode, sim, {}));
    const created = await post(a!, 'alice');
    const auth = await b!.bearer('alice');
    const listed = await b!.http.get('/sessions').set('Authorization', auth);
    expect(listed.body.sessions.map((s: { session_id: string }) => s.session_id)).toEqual([
      created.body.session_id,
    ]);
    expectProblem(
      await b!.http
        .delete(`/session/${created.body.session_id}`)
        .set('Authorization', await b!.bearer('mallory')),
      404,
      'not-found',
    );
    expect(
      (await b!.http.delete(`/session/${created.body.session_id}`).set('Authorization', auth)).status,
    ).toBe(204);
    expect(sim.liveSessions()).toHaveLength(0);
    expect((await a!.http.get('/sessions').set('Authorization', auth)).body.sessions).toEqual([]);
  });

  it('shares the global cap across replicas', async () => {
    const [a, b] = (replicas = await twoReplicas(mode, sim, { MAX_SESSIONS_TOTAL: '2' }));
    expect((await post(a!, 'alice')).status).toBe(201);
    expect((await post(b!, 'bob')).status).toBe(201);
    expectProblem(await post(a!, 'carol'), 429, 'session-limit');
    expectProblem(await post(b!, 'dave'), 429, 'session-limit');
  });

  it('shares the per-user rate limit across replicas', async () => {
    const [a, b] = (replicas = await twoReplicas(mode, sim, {
      RATE_LIMIT_PER_MINUTE: '4',
      MAX_SESSIONS_PER_USER: '10',
    }));
    for (const replica of [a!, b!, a!, b!]) expect((await post(replica, 'alice')).status).toBe(201);
    const limited = await post(a!, 'alice');
    expectProblem(limited, 429, 'rate-limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expectProblem(await post(b!, 'alice'), 429, 'rate-limited');
    expect((await post(b!, 'bob')).status).toBe(201);
  });

  it('shares the per-IP rate limit across replicas', async () => {
    const [a, b] = (replicas = await twoReplicas(mode, sim, { RATE_LIMIT_IP_PER_MINUTE: '3' }));
    for (const replica of [a!, b!, a!])
      expect(
        (await replica.http.get('/sessions').set('Authorization', await replica.bearer('x'))).status,
      ).toBe(200);
    expectProblem(
      await b!.http.get('/sessions').set('Authorization', await b!.bearer('y')),
      429,
      'rate-limited',
    );
  });

  it('keys the per-IP limit on the address the trusted proxy saw, so a spoofed X-Forwarded-For gets no fresh bucket', async () => {
    const [a, b] = (replicas = await twoReplicas(mode, sim, {
      RATE_LIMIT_IP_PER_MINUTE: '3',
      TRUST_PROXY: '1',
    }));
    const from = async (replica: TestApp, forwarded: string) =>
      replica.http
        .get('/sessions')
        .set('Authorization', await replica.bearer('x'))
        .set('X-Forwarded-For', forwarded);
    for (const [replica, spoof] of [
      [a!, '1.1.1.1'],
      [b!, '2.2.2.2'],
      [a!, '3.3.3.3'],
    ] as const) {
      expect((await from(replica, `${spoof}, 203.0.113.7`)).status).toBe(200);
    }
    expectProblem(await from(b!, '4.4.4.4, 203.0.113.7'), 429, 'rate-limited');
    expect((await from(b!, '203.0.113.8')).status).toBe(200);
  });

  describe('Idempotency-Key across replicas', () => {
    it('replays on one replica the answer the other gave', async () => {
      const [a, b] = (replicas = await twoReplicas(mode, sim, {}));
      const first = await post(a!, 'alice', { 'Idempotency-Key': 'k-1' });
      const again = await post(b!, 'alice', { 'Idempotency-Key': 'k-1' });
      expect(again.status).toBe(201);
      expect(again.body).toEqual(first.body);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(sim.ledger().sessions).toHaveLength(1);
    });

    it('answers 409 on one replica while the other still runs the key, and 422 for another body', async () => {
      const [a, b] = (replicas = await twoReplicas(mode, sim, {}));
      sim.inject({ route: 'avaturn.create', latencyMs: 400 });
      const first = post(a!, 'alice', { 'Idempotency-Key': 'k-1' });
      await new Promise((resolve) => setTimeout(resolve, 150));
      expectProblem(await post(b!, 'alice', { 'Idempotency-Key': 'k-1' }), 409, 'idempotency-in-progress');
      expect((await first).status).toBe(201);
      expectProblem(
        await post(b!, 'alice', { 'Idempotency-Key': 'k-1' }, { profile: 'support' }),
        422,
        'idempotency-key-reused',
      );
      expect(sim.ledger().sessions).toHaveLength(1);
    });
  });
});

describe('a broker whose Redis goes away', () => {
  let sim: Simulator;
  let proxy: TcpProxy;
  let t: TestApp;
  beforeEach(async () => {
    sim = await startSimulator();
    const target = new URL(redisUrl);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    t = await replica(
      sim,
      { REDIS_URL: proxy.url },
      { mode: 'standalone', url: proxy.url },
      `test:${randomUUID()}:`,
    );
  });
  afterEach(async () => {
    await t.close();
    await proxy.close();
    await sim.close();
  });

  it('turns readiness 503, fails creates closed with no upstream call, and recovers when Redis returns', async () => {
    expect((await t.http.get('/readyz')).status).toBe(200);
    expect((await post(t, 'alice')).status).toBe(201);
    const callsBefore = sim.ledger().calls.length;

    await proxy.cut();
    expectProblem(await t.http.get('/readyz'), 503, 'not-ready');
    expect((await t.http.get('/healthz')).status).toBe(200);
    const started = Date.now();
    expectProblem(await post(t, 'bob'), 503, 'not-ready');
    expect(Date.now() - started).toBeLessThan(3000);
    expectProblem(
      await t.http.get('/sessions').set('Authorization', await t.bearer('alice')),
      503,
      'not-ready',
    );
    expect(sim.ledger().calls).toHaveLength(callsBefore);

    await proxy.restore();
    const until = Date.now() + 10_000;
    while ((await t.http.get('/readyz')).status !== 200 && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect((await t.http.get('/readyz')).status).toBe(200);
    expect((await post(t, 'bob')).status).toBe(201);
    const listed = await t.http.get('/sessions').set('Authorization', await t.bearer('alice'));
    expect(listed.body.sessions).toHaveLength(1);
  });
});
