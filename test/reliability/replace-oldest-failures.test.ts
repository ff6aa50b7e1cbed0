import type { SimFault } from '../../src/simulator';
import { expectProblem, type TestApp } from '../helpers/build-test-app';
import { buildWorld, expectAccountedFor, everyStoreKind, type World } from '../helpers/world';
import { useRedisDeployment } from '../helpers/redis-deployment';

const env = {
  MAX_SESSIONS_PER_USER: '1',
  SESSION_LIMIT_POLICY: 'replace-oldest',
  UPSTREAM_TIMEOUT_MS: '300',
  SESSION_CREATE_DEADLINE_MS: '1500',
};

async function create(t: TestApp, user = 'alice') {
  return t.http
    .post('/session')
    .set('Authorization', await t.bearer(user))
    .send({});
}

const faults: [string, Omit<SimFault, 'route'>][] = [
  ['answers 500 on every try', { status: 500, times: 0 }],
  ['answers 401', { status: 401, times: 0 }],
  ['hangs', { hang: true, times: 0 }],
];

describe.each(everyStoreKind)('replace-oldest when Avaturn cannot end the old session (%s store)', (kind) => {
  useRedisDeployment(kind);
  let world: World;
  let t: TestApp;
  /** Set where the queue's background polls must not race the test: it drains the queue itself. */
  let quietWorker = false;
  beforeEach(async () => {
    const queue = { intervalMs: quietWorker ? 600_000 : 50, backoffBaseMs: 20, backoffMaxMs: 200 };
    world = await buildWorld(kind, { env, deps: { queue } });
    t = world.t;
  });
  afterEach(() => world.dispose());

  describe.each(faults)('when its DELETE %s', (_name, fault) => {
    // Whether the user's own DELETE ends the old session must not depend on a poll ending it first.
    beforeAll(() => (quietWorker = true));
    afterAll(() => (quietWorker = false));

    it('answers 503 with Retry-After within the deadline, creates nothing, and keeps the old session listed and deletable', async () => {
      const first = await create(t);
      expect(first.status).toBe(201);
      t.sim.inject({ route: 'avaturn.terminate', ...fault });

      const started = Date.now();
      const second = await create(t);
      expectProblem(second, 503, 'upstream-unavailable');
      expect(Number(second.headers['retry-after'])).toBeGreaterThan(0);
      expect(Date.now() - started).toBeLessThan(1500 + 500);
      expect(t.sim.ledger().sessions).toHaveLength(1);
      expect(t.sim.liveSessions().map((s) => s.sessionId)).toEqual([first.body.session_id]);

      const listed = await t.http.get('/sessions').set('Authorization', await t.bearer('alice'));
      expect(listed.body.sessions.map((s: { session_id: string }) => s.session_id)).toEqual([
        first.body.session_id,
      ]);

      t.sim.clearFaults();
      const deleted = await t.http
        .delete(`/session/${first.body.session_id}`)
        .set('Authorization', await t.bearer('alice'));
      expect(deleted.status).toBe(204);
      expect(t.sim.liveSessions()).toEqual([]);
      await expectAccountedFor(t, 1);
    });

    it('ends the old session through the queue once Avaturn is back, and the user may then start again', async () => {
      await create(t);
      t.sim.inject({ route: 'avaturn.terminate', ...fault });
      expectProblem(await create(t), 503, 'upstream-unavailable');
      t.sim.clearFaults();
      await expectAccountedFor(t, 1);
      expect(t.sim.liveSessions()).toEqual([]);
      expect(t.sim.ledger().sessions[0]).toMatchObject({ state: 'ended', endedBy: 'delete' });
      expect((await create(t)).status).toBe(201);
      await expectAccountedFor(t, 1);
    });
  });

  it('with the circuit open, answers 503 at once with Retry-After and keeps the old session', async () => {
    const first = await create(t);
    t.sim.inject({ route: 'avaturn.terminate', status: 503, times: 0 });
    // Open Avaturn's circuit: enough failed DELETEs in its window.
    for (let i = 0; i < 3; i++) expectProblem(await create(t), 503, 'upstream-unavailable');
    const callsBefore = t.sim.ledger().calls.filter((c) => c.route === 'avaturn.terminate').length;
    const res = await create(t);
    expectProblem(res, 503, 'upstream-unavailable');
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(t.sim.ledger().calls.filter((c) => c.route === 'avaturn.terminate').length).toBe(callsBefore);
    expect(t.sim.liveSessions().map((s) => s.sessionId)).toEqual([first.body.session_id]);
  });

  it('when the DELETE fails once and then succeeds, the new session replaces the old one', async () => {
    const first = await create(t);
    t.sim.inject({ route: 'avaturn.terminate', status: 500, times: 1 });
    const second = await create(t);
    expect(second.status).toBe(201);
    expect(t.sim.liveSessions().map((s) => s.sessionId)).toEqual([second.body.session_id]);
    expect(t.sim.ledger().sessions.find((s) => s.sessionId === first.body.session_id)).toMatchObject({
      state: 'ended',
    });
    await expectAccountedFor(t, 1);
  });
});
