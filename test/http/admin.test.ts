import { buildTestApp, createSessionFor, expectProblem, type TestApp } from '../helpers/build-test-app';
import { buildWorld, expectAccountedFor, sleep, storeKinds, type World } from '../helpers/world';

const adminToken = 'admin-token-that-is-long-enough-0123456789';

const create = createSessionFor;

describe('the admin routes without ADMIN_TOKEN', () => {
  it('do not exist: 404 not-found, whatever the caller sends', async () => {
    const t = await buildTestApp();
    try {
      expectProblem(
        await t.http.get('/admin/sessions').set('Authorization', `Bearer ${adminToken}`),
        404,
        'not-found',
      );
      expectProblem(await t.http.delete('/admin/users/alice/sessions'), 404, 'not-found');
    } finally {
      await t.close();
    }
  });
});

describe.each(storeKinds)('the admin routes with ADMIN_TOKEN (%s store)', (kind) => {
  let world: World;
  let t: TestApp;
  beforeEach(async () => {
    world = await buildWorld(kind, {
      env: { ADMIN_TOKEN: adminToken, MAX_SESSIONS_PER_USER: '3', UPSTREAM_TIMEOUT_MS: '300' },
    });
    t = world.t;
  });
  afterEach(() => world.dispose());

  const admin = (scheme = 'Bearer') => `${scheme} ${adminToken}`;

  it.each([
    ['no token', undefined],
    ['a wrong token', `Bearer ${adminToken.slice(0, -1)}x`],
    ['a longer token', `Bearer ${adminToken}x`],
    ['a user’s JWT', 'user'],
    ['the token in another scheme', `Basic ${adminToken}`],
  ])('answers 401 unauthenticated to %s, and ends nothing', async (_name, authorization) => {
    await create(t, 'alice');
    const header = authorization === 'user' ? await t.bearer('alice') : authorization;
    for (const req of [t.http.get('/admin/sessions'), t.http.delete('/admin/users/alice/sessions')]) {
      const res = await (header === undefined ? req : req.set('Authorization', header));
      expectProblem(res, 401, 'unauthenticated');
      expect(res.headers['www-authenticate']).toBe('Bearer');
    }
    expect(t.sim.liveSessions()).toHaveLength(1);
  });

  it('lists every user’s live sessions, newest first, without tokens', async () => {
    const a = await create(t, 'alice');
    await sleep(5); // distinct creation times, so that newest first is one order
    const b = await create(t, 'bob');
    const res = await t.http.get('/admin/sessions').set('Authorization', admin('bearer'));
    expect(res.status).toBe(200);
    expect(
      res.body.sessions.map((s: { session_id: string; user_id: string }) => [s.session_id, s.user_id]),
    ).toEqual([
      [b, 'bob'],
      [a, 'alice'],
    ]);
    expect(Object.keys(res.body.sessions[0]).sort()).toEqual([
      'created_at',
      'engine',
      'expires_at',
      'profile',
      'session_id',
      'user_id',
    ]);
    expect(JSON.stringify(res.body)).not.toContain(t.sim.ledger().sessions[0]!.token);
    expect(
      (await t.http.get('/admin/sessions?limit=1').set('Authorization', admin())).body.sessions,
    ).toHaveLength(1);
    expectProblem(
      await t.http.get('/admin/sessions?limit=0').set('Authorization', admin()),
      400,
      'invalid-request',
    );
  });

  it('ends every session of one user upstream and leaves other users alone', async () => {
    await create(t, 'mallory');
    await create(t, 'mallory');
    const bobs = await create(t, 'bob');
    const res = await t.http.delete('/admin/users/mallory/sessions').set('Authorization', admin());
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ terminated: 2 });
    expect(t.sim.liveSessions().map((s) => s.sessionId)).toEqual([bobs]);
    const listed = await t.http.get('/sessions').set('Authorization', await t.bearer('mallory'));
    expect(listed.body.sessions).toEqual([]);
    await expectAccountedFor(t, 3);

    const again = await t.http.delete('/admin/users/mallory/sessions').set('Authorization', admin());
    expect(again.body).toEqual({ terminated: 0 });
  });

  it('with a user id that needs escaping in the path', async () => {
    await create(t, 'user:with/odd chars');
    const res = await t.http
      .delete(`/admin/users/${encodeURIComponent('user:with/odd chars')}/sessions`)
      .set('Authorization', admin());
    expect(res.body).toEqual({ terminated: 1 });
    expect(t.sim.liveSessions()).toEqual([]);
  });

  it('when Avaturn cannot end them at once: 503, they stay listed and queued, and end once it answers', async () => {
    const id = await create(t, 'mallory');
    t.sim.inject({ route: 'avaturn.terminate', status: 500, times: 0 });
    const res = await t.http.delete('/admin/users/mallory/sessions').set('Authorization', admin());
    expectProblem(res, 503, 'upstream-unavailable');
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    const listed = await t.http.get('/admin/sessions').set('Authorization', admin());
    expect(listed.body.sessions.map((s: { session_id: string }) => s.session_id)).toEqual([id]);

    t.sim.clearFaults();
    await expectAccountedFor(t, 3);
    expect(t.sim.liveSessions()).toEqual([]);
  });
});
