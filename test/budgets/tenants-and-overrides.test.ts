import { expectProblem } from '../helpers/build-test-app';
import { fakeClock } from '../helpers/fake-clock';
import { storeKinds } from '../helpers/world';
import {
  admin,
  buildBudgetWorld,
  endSession,
  maxDurationOf,
  startSession,
  started,
  type BudgetWorld,
} from './budget-world';

const acme = { org_id: 'acme' };
const globex = { org_id: 'globex' };

describe.each(storeKinds)('tenants (%s store)', (kind) => {
  let w: BudgetWorld;
  afterEach(async () => {
    await w.dispose();
  });

  it('refuses a token without a valid tenant claim with 403, on every user route, before any upstream call', async () => {
    w = await buildBudgetWorld(kind, { AUTH_TENANT_CLAIM: 'org_id' });
    const { t } = w;
    for (const claims of [{}, { org_id: '' }, { org_id: 'acme corp' }, { org_id: ['acme'] }, { org_id: 7 }]) {
      const bearer = await t.bearer('alice', claims);
      expectProblem(await t.http.post('/session').set('Authorization', bearer).send({}), 403, 'forbidden');
      expectProblem(await t.http.get('/sessions').set('Authorization', bearer), 403, 'forbidden');
      expectProblem(await t.http.get('/me/limits').set('Authorization', bearer), 403, 'forbidden');
    }
    expect(t.sim.ledger().calls).toHaveLength(0);
    expect(t.logs.lines().some((line) => String(line.reason).includes('org_id claim'))).toBe(true);
    expect((await startSession(t, 'alice', { org_id: 'acme.eu:team@x-1_2' })).status).toBe(201);
  });

  it('caps live sessions across a tenant’s users (always reject), lists them by tenant, and tells events the tenant', async () => {
    w = await buildBudgetWorld(kind, { AUTH_TENANT_CLAIM: 'org_id', MAX_SESSIONS_PER_TENANT: '1' });
    const { t } = w;
    const alices = await started(t, 'alice', acme);
    // One user must not end another user's session: replace-oldest does not apply across users.
    expectProblem(await startSession(t, 'bob', acme), 429, 'session-limit');
    const carols = await started(t, 'carol', globex);

    const listed = await t.http.get('/admin/sessions?tenant=acme').set('Authorization', admin);
    expect(listed.body.sessions).toEqual([
      expect.objectContaining({ session_id: alices, user_id: 'alice', tenant: 'acme' }),
    ]);
    const carolOnly = await t.http
      .get('/admin/sessions?user=carol&tenant=globex')
      .set('Authorization', admin);
    expect(carolOnly.body.sessions.map((s: { session_id: string }) => s.session_id)).toEqual([carols]);
    expectProblem(
      await t.http.get('/admin/sessions?tenant=no%20spaces').set('Authorization', admin),
      400,
      'invalid-request',
    );

    await endSession(t, 'alice', alices, acme);
    await started(t, 'bob', acme);
    const events = t.logs
      .lines()
      .filter((line) => typeof line.event === 'string' && line.user_id === 'alice');
    expect(events.map((line) => [line.event, line.tenant])).toEqual([
      ['session.created', 'acme'],
      ['session.ended', 'acme'],
    ]);
  });

  it("shares a tenant's minute budget between its users", async () => {
    w = await buildBudgetWorld(kind, {
      AUTH_TENANT_CLAIM: 'org_id',
      TENANT_DAILY_MINUTES: '2',
      MAX_SESSIONS_PER_USER: '2',
      SESSION_LIMIT_POLICY: 'reject',
    });
    const { t, sim, clock } = w;
    const first = await started(t, 'alice', acme);
    clock.advance(50_000);
    await endSession(t, 'alice', first, acme);
    const bobs = await started(t, 'bob', acme);
    expect(maxDurationOf(sim, bobs)).toBe(70);
    clock.advance(15_000);
    await endSession(t, 'bob', bobs, acme);
    expectProblem(await startSession(t, 'alice', acme), 429, 'budget-exhausted', {
      scope: 'tenant',
      window: 'day',
    });
    // Another tenant is not touched.
    expect(maxDurationOf(sim, await started(t, 'carol', globex))).toBe(120);
    const limits = await t.http.get('/me/limits').set('Authorization', await t.bearer('bob', acme));
    expect(limits.body).toEqual({
      sessions: { live: 0, max: 2 },
      budgets: [
        {
          scope: 'tenant',
          window: 'day',
          minutes: 2,
          used_minutes: 1.08,
          left_minutes: 0.92,
          resets_at: '2030-01-16T00:00:00.000Z',
        },
      ],
    });
  });

  it('applies run-time overrides of a user and a tenant at once, and validates them strictly', async () => {
    w = await buildBudgetWorld(kind, { AUTH_TENANT_CLAIM: 'org_id', USER_DAILY_MINUTES: '10' });
    const { t, sim } = w;
    const put = (path: string, body: unknown) =>
      t.http
        .put(path)
        .set('Authorization', admin)
        .send(body as object);

    expect((await t.http.get('/admin/users/alice/limits').set('Authorization', admin)).body).toEqual({
      daily_minutes: 10,
      monthly_minutes: 0,
      max_sessions: 1,
      source: { daily_minutes: 'default', monthly_minutes: 'default', max_sessions: 'default' },
    });
    const set = await put('/admin/users/alice/limits', { daily_minutes: 1, max_sessions: 2 });
    expect(set.status).toBe(200);
    expect(set.body).toEqual({
      daily_minutes: 1,
      monthly_minutes: 0,
      max_sessions: 2,
      source: { daily_minutes: 'override', monthly_minutes: 'default', max_sessions: 'override' },
    });
    expect(maxDurationOf(sim, await started(t, 'alice', acme))).toBe(60);
    expect(maxDurationOf(sim, await started(t, 'bob', acme))).toBe(600);

    // A tenant's cap set at run time; null gives the user back the default budget.
    await put('/admin/tenants/acme/limits', { max_sessions: 2 });
    expectProblem(await startSession(t, 'carol', acme), 429, 'session-limit');
    await put('/admin/users/alice/limits', { daily_minutes: null });
    const me = await t.http.get('/me/limits').set('Authorization', await t.bearer('alice', acme));
    expect(me.body.sessions).toEqual({ live: 1, max: 2 });
    expect(me.body.budgets).toEqual([expect.objectContaining({ scope: 'user', minutes: 10 })]);

    for (const body of [
      { daily_minutes: -1 },
      { daily_minutes: 1.5 },
      { daily_minutes: '5' },
      { hourly_minutes: 5 },
      { max_sessions: 0 },
    ])
      expectProblem(await put('/admin/users/alice/limits', body), 400, 'invalid-request');
    expect((await put('/admin/tenants/acme/limits', { max_sessions: 0 })).body.max_sessions).toBe(0);
    expectProblem(await put('/admin/tenants/a%20b/limits', {}), 404, 'not-found');
    expectProblem(await t.http.get('/admin/users/alice/limits'), 401, 'unauthenticated');
  });
});

describe('limit overrides across replicas (redis store)', () => {
  it('are applied by the other replica at once and survive a restart of both', async () => {
    const clock = fakeClock(Date.parse('2030-01-15T10:00:00Z'));
    const first = await buildBudgetWorld('redis', { USER_DAILY_MINUTES: '10' }, undefined, { clock });
    const shared = { keyPrefix: first.keyPrefix, simulator: first.sim, clock };
    const second = await buildBudgetWorld('redis', { USER_DAILY_MINUTES: '10' }, undefined, shared);
    let restarted: BudgetWorld | undefined;
    try {
      await first.t.http
        .put('/admin/users/alice/limits')
        .set('Authorization', admin)
        .send({ daily_minutes: 2 });
      expect(maxDurationOf(first.sim, await started(second.t, 'alice'))).toBe(120);
      // Both replicas stop; a new one on the same Redis finds the override.
      await second.t.close();
      await first.t.close();
      restarted = await buildBudgetWorld('redis', { USER_DAILY_MINUTES: '10' }, undefined, shared);
      const limits = await restarted.t.http.get('/admin/users/alice/limits').set('Authorization', admin);
      expect(limits.body).toMatchObject({ daily_minutes: 2, source: { daily_minutes: 'override' } });
    } finally {
      await restarted?.dispose();
      await Promise.all([first.proxy?.close(), second.proxy?.close(), first.sim.close()]);
    }
  });
});
