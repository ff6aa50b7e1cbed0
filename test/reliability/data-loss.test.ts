import { createRedisStore } from '../../src/store/redis/redis-store';
import { buildTestApp, createSessionFor, expectProblem, type TestApp } from '../helpers/build-test-app';
import { startRedisServer, type RedisServer } from '../helpers/redis-server';
import { eventually, expectAccountedFor, sleep } from '../helpers/world';

const keyPrefix = 'data-loss:';
const users = Array.from({ length: 40 }, (_, i) => `user-${i}`);
/** The bound, from the moment Redis is back (empty) to every session listed again. */
const noticeWithinMs = 10_000;

describe('when Redis loses its data while 40 users hold sessions', () => {
  let redis: RedisServer;
  let t: TestApp;

  beforeEach(async () => {
    redis = await startRedisServer();
    t = await buildTestApp({
      env: { REDIS_URL: redis.url, MAX_SESSIONS_PER_USER: '1', SESSION_LIMIT_POLICY: 'reject' },
      deps: { store: createRedisStore({ url: redis.url, keyPrefix }) },
    });
  });

  afterEach(async () => {
    await t.close();
    await redis.close();
  });

  const list = async (user: string) => t.http.get('/sessions').set('Authorization', await t.bearer(user));
  const tryCreate = async (user: string) =>
    t.http
      .post('/session')
      .set('Authorization', await t.bearer(user))
      .send({});

  it('notices, lists every session to its user again, ends each on DELETE, and lets nobody past the cap', async () => {
    const sessionOf = new Map<string, string>();
    for (let i = 0; i < users.length; i += 10) {
      const batch = users.slice(i, i + 10);
      const ids = await Promise.all(batch.map((user) => createSessionFor(t, user)));
      batch.forEach((user, j) => sessionOf.set(user, ids[j]!));
    }

    // SIGKILL, and the same port again with nothing in it: a restart without persistence.
    const port = redis.port;
    await redis.close();
    redis = await startRedisServer([], { port });
    const backAt = Date.now();
    expect(await redis.admin.dbsize()).toBe(0);

    // A few users try for a second session while the broker notices and restores: never a 201.
    const attempts: Array<{ status: number; code: unknown }> = [];
    let pressOn = true;
    const pressing = (async () => {
      while (pressOn && Date.now() - backAt < 30_000) {
        const answers = await Promise.all(users.slice(0, 5).map(tryCreate));
        for (const res of answers) {
          attempts.push({ status: res.status, code: res.body?.code });
          if (res.status !== 201) expectProblem(res, res.status, String(res.body?.code));
        }
        await sleep(200);
      }
    })();

    await eventually(
      async () => {
        const lines = t.logs.lines();
        expect(
          lines.some((line) => line.level === 'error' && String(line.msg).includes('lost its data')),
        ).toBe(true);
        expect(
          await t.broker.metrics.registry.getSingleMetricAsString('avaturn_broker_store_data_loss_total'),
        ).toMatch(/avaturn_broker_store_data_loss_total 1$/m);
        for (const user of users) {
          const res = await list(user);
          expect({ user, ids: res.body.sessions?.map((s: { session_id: string }) => s.session_id) }).toEqual({
            user,
            ids: [sessionOf.get(user)],
          });
        }
      },
      noticeWithinMs - (Date.now() - backAt),
    );
    // Once restored (and the hold for other replicas has passed), the cap refuses them as before.
    await eventually(() => expect(attempts.at(-1)).toEqual({ status: 429, code: 'session-limit' }), 15_000);
    pressOn = false;
    await pressing;

    expect(attempts.filter((a) => a.status === 201)).toEqual([]);
    expect(attempts).toContainEqual({ status: 503, code: 'not-ready' });
    for (const attempt of attempts) {
      expect([
        { status: 503, code: 'not-ready' },
        { status: 429, code: 'session-limit' },
      ]).toContainEqual(attempt);
    }

    for (const user of users) {
      const res = await t.http
        .delete(`/session/${sessionOf.get(user)}`)
        .set('Authorization', await t.bearer(user));
      expect(res.status).toBe(204);
    }
    const ended = t.sim
      .ledger()
      .sessions.filter((s) => s.endedBy === 'delete')
      .map((s) => s.sessionId);
    expect(ended.sort()).toEqual([...sessionOf.values()].sort());
    expect(t.sim.liveSessions()).toEqual([]);
    await expectAccountedFor(t, 1);
  }, 60_000);

  it('names in the log the sessions it could not register again', async () => {
    const id = await createSessionFor(t, 'alice');
    const port = redis.port;
    await redis.close();
    // Back empty, but without scripting: the loss is noticed, and nothing can be registered again.
    redis = await startRedisServer(
      ['--rename-command', 'EVAL', 'EVAL-off', '--rename-command', 'EVALSHA', 'EVALSHA-off'],
      {
        port,
      },
    );

    await eventually(() => {
      const lost = t.logs.lines().find((line) => String(line.msg).startsWith('sessions lost with the store'));
      expect(lost).toMatchObject({ level: 'error', lost: [id] });
    }, 15_000);
  }, 30_000);
});

describe('when Redis loses its data under two replicas', () => {
  let redis: RedisServer;
  let a: TestApp;
  let b: TestApp;

  beforeEach(async () => {
    redis = await startRedisServer();
    const replica = (simulator?: TestApp['sim']) =>
      buildTestApp({
        simulator,
        env: { REDIS_URL: redis.url, MAX_SESSIONS_PER_USER: '1', SESSION_LIMIT_POLICY: 'reject' },
        deps: { store: createRedisStore({ url: redis.url, keyPrefix }) },
      });
    a = await replica();
    b = await replica(a.sim);
  });

  afterEach(async () => {
    await b.close();
    await a.close();
    await redis.close();
  });

  it('does not bring back a session that the other replica ended before the loss', async () => {
    const ended = await createSessionFor(a, 'alice');
    const kept = await createSessionFor(a, 'bob');
    const res = await b.http.delete(`/session/${ended}`).set('Authorization', await b.bearer('alice'));
    expect(res.status).toBe(204);
    // Replica a looks its sessions up in the store in the background and forgets the one b ended.
    await eventually(() => expect(a.broker.recovery.rememberedCount()).toBe(1));

    const port = redis.port;
    await redis.close();
    redis = await startRedisServer([], { port });

    await eventually(async () => {
      const bob = await b.http.get('/sessions').set('Authorization', await b.bearer('bob'));
      expect(bob.body.sessions.map((s: { session_id: string }) => s.session_id)).toEqual([kept]);
    }, noticeWithinMs);
    const alice = await a.http.get('/sessions').set('Authorization', await a.bearer('alice'));
    expect(alice.body.sessions).toEqual([]);
    expect(a.sim.liveSessions().map((s) => s.sessionId)).toEqual([kept]);
  });
});
