import { buildTestApp, expectProblem, type TestApp } from '../helpers/build-test-app';

async function create(t: TestApp, user: string) {
  return t.http
    .post('/session')
    .set('Authorization', await t.bearer(user))
    .send({});
}

describe('session limits', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  describe('at the per-user cap with policy reject', () => {
    it('answers 429 session-limit with Retry-After and calls no upstream', async () => {
      t = await buildTestApp({ env: { MAX_SESSIONS_PER_USER: '2', SESSION_LIMIT_POLICY: 'reject' } });
      expect((await create(t, 'alice')).status).toBe(201);
      expect((await create(t, 'alice')).status).toBe(201);
      const calls = t.sim.ledger().calls.length;
      const res = await create(t, 'alice');
      expectProblem(res, 429, 'session-limit');
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      expect(t.sim.ledger().calls).toHaveLength(calls);
      expect((await create(t, 'bob')).status).toBe(201);
    });

    it('frees the slot when the user ends a session', async () => {
      t = await buildTestApp({ env: { MAX_SESSIONS_PER_USER: '1', SESSION_LIMIT_POLICY: 'reject' } });
      const first = await create(t, 'alice');
      await t.http.delete(`/session/${first.body.session_id}`).set('Authorization', await t.bearer('alice'));
      expect((await create(t, 'alice')).status).toBe(201);
    });
  });

  describe('at the per-user cap with policy replace-oldest (the default)', () => {
    it('terminates the oldest session upstream, then creates the new one', async () => {
      t = await buildTestApp({ env: { MAX_SESSIONS_PER_USER: '2' } });
      const first = await create(t, 'alice');
      const second = await create(t, 'alice');
      const third = await create(t, 'alice');
      expect(third.status).toBe(201);
      const byId = new Map(t.sim.ledger().sessions.map((s) => [s.sessionId, s]));
      expect(byId.get(first.body.session_id)).toMatchObject({ state: 'ended', endedBy: 'delete' });
      expect(byId.get(second.body.session_id)?.state).toBe('live');
      expect(byId.get(third.body.session_id)?.state).toBe('live');
      const list = await t.http.get('/sessions').set('Authorization', await t.bearer('alice'));
      expect(list.body.sessions.map((s: { session_id: string }) => s.session_id)).toEqual([
        third.body.session_id,
        second.body.session_id,
      ]);
    });
  });

  describe('at the global cap', () => {
    it('answers 429 session-limit for everyone until a session ends', async () => {
      t = await buildTestApp({ env: { MAX_SESSIONS_TOTAL: '2' } });
      const alice = await create(t, 'alice');
      expect((await create(t, 'bob')).status).toBe(201);
      expectProblem(await create(t, 'carol'), 429, 'session-limit');
      await t.http.delete(`/session/${alice.body.session_id}`).set('Authorization', await t.bearer('alice'));
      expect((await create(t, 'carol')).status).toBe(201);
    });
  });

  describe('on a failed create', () => {
    it('releases the reserved slot', async () => {
      t = await buildTestApp({
        env: { MAX_SESSIONS_PER_USER: '1', SESSION_LIMIT_POLICY: 'reject', MAX_SESSIONS_TOTAL: '1' },
      });
      t.sim.inject({ route: 'openai.mint', status: 401 });
      expectProblem(await create(t, 'alice'), 502, 'upstream-error');
      expect((await create(t, 'alice')).status).toBe(201);
    });
  });

  describe('the per-user request rate', () => {
    it('answers 429 rate-limited with Retry-After and RateLimit headers past the limit', async () => {
      t = await buildTestApp({ env: { RATE_LIMIT_PER_MINUTE: '3', MAX_SESSIONS_PER_USER: '10' } });
      for (let i = 0; i < 3; i++) {
        const ok = await create(t, 'alice');
        expect(ok.status).toBe(201);
        expect(ok.headers['ratelimit']).toMatch(/r=\d+/);
      }
      const res = await create(t, 'alice');
      expectProblem(res, 429, 'rate-limited');
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      expect(res.headers['ratelimit-policy']).toBeDefined();
      expect(t.sim.ledger().sessions).toHaveLength(3);
      expect((await create(t, 'bob')).status).toBe(201);
    });
  });
});
