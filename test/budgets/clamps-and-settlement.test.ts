import { expectProblem } from '../helpers/build-test-app';
import { eventually, everyStoreKind } from '../helpers/world';
import {
  admin,
  buildBudgetWorld,
  endSession,
  maxDurationOf,
  startSession,
  started,
  upstreamSeconds,
  type BudgetWorld,
} from './budget-world';

describe.each(everyStoreKind)('minute budgets (%s store)', (kind) => {
  let w: BudgetWorld;
  afterEach(async () => {
    await w.dispose();
  });

  it('clamps max_duration to the time left, refuses under a minute without calling upstream, and /me/limits says the same', async () => {
    w = await buildBudgetWorld(kind, {
      USER_DAILY_MINUTES: '2',
      MAX_SESSIONS_PER_USER: '3',
      SESSION_LIMIT_POLICY: 'reject',
    });
    const { t, sim, clock } = w;
    const limits = async () =>
      (await t.http.get('/me/limits').set('Authorization', await t.bearer('alice'))).body as {
        sessions: { live: number; max: number };
        budgets: { used_minutes: number; left_minutes: number; resets_at: string; minutes: number }[];
      };

    const first = await started(t, 'alice');
    expect(maxDurationOf(sim, first)).toBe(120);
    // A live session holds what it may use: all of it is counted as used until it ends.
    expect(await limits()).toEqual({
      sessions: { live: 1, max: 3 },
      budgets: [
        {
          scope: 'user',
          window: 'day',
          minutes: 2,
          used_minutes: 2,
          left_minutes: 0,
          resets_at: '2030-01-16T00:00:00.000Z',
        },
      ],
    });
    clock.advance(30_000);
    await endSession(t, 'alice', first);
    expect((await limits()).budgets[0]).toMatchObject({ used_minutes: 0.5, left_minutes: 1.5 });

    // 90 s left: Avaturn is told to end the session after 90 s, and expires_at says so.
    const res = await startSession(t, 'alice');
    expect(res.status).toBe(201);
    expect(maxDurationOf(sim, res.body.session_id as string)).toBe(90);
    expect(Date.parse(res.body.expires_at as string)).toBe(clock.now() + 90_000);
    clock.advance(31_000);
    await endSession(t, 'alice', res.body.session_id as string);

    // 59 s left: refused, and nothing upstream is asked for it.
    expect((await limits()).budgets[0]).toMatchObject({ used_minutes: 1.02, left_minutes: 0.98 });
    const calls = sim.ledger().calls.length;
    const refused = await startSession(t, 'alice');
    expectProblem(refused, 429, 'budget-exhausted', { scope: 'user', window: 'day' });
    expect(Number(refused.headers['retry-after'])).toBe(
      Math.ceil((Date.parse('2030-01-16T00:00:00Z') - clock.now()) / 1000),
    );
    expect(sim.ledger().calls.length).toBe(calls);
    // Another user's budget is untouched, and the refusal says nothing about it.
    expect(maxDurationOf(sim, await started(t, 'bob'))).toBe(120);
    expect(JSON.stringify(refused.body)).not.toContain('bob');
  });

  it('settles each end path once, to the second, as the simulator saw the session run', async () => {
    w = await buildBudgetWorld(kind, {
      USER_DAILY_MINUTES: '600',
      MAX_SESSIONS_PER_USER: '1',
      SESSION_LIMIT_POLICY: 'replace-oldest',
    });
    const { t, sim, clock } = w;
    const owners = new Map<string, string>();
    const own = async (user: string) => {
      const id = await started(t, user);
      owners.set(id, user);
      return id;
    };

    const deleted = await own('u-delete');
    clock.advance(40_000);
    await endSession(t, 'u-delete', deleted);

    const hidden = await own('u-hide');
    clock.advance(25_000);
    const token = (await t.bearer('u-hide')).slice('Bearer '.length);
    expect((await t.http.post(`/session/${hidden}/end`).type('text/plain').send(token)).status).toBe(204);

    await own('u-replace');
    clock.advance(50_000);
    const second = await own('u-replace');
    clock.advance(10_000);
    await endSession(t, 'u-replace', second);

    await own('u-admin');
    clock.advance(70_000);
    expect((await t.http.delete('/admin/users/u-admin/sessions').set('Authorization', admin)).body).toEqual({
      terminated: 1,
    });

    sim.inject({ route: 'avaturn.create', status: 200, body: { session_id: 'orphan_1', token: '' } });
    expect((await startSession(t, 'u-compensated')).status).toBe(502);
    owners.set('orphan_1', 'u-compensated');

    await own('u-expired');
    clock.advance(900_000 + 61_000);

    const expected = upstreamSeconds(sim, owners);
    expect(Object.fromEntries(expected)).toEqual({
      'u-delete': 40,
      'u-hide': 25,
      'u-replace': 60,
      'u-admin': 70,
      'u-expired': 900,
    });
    const usage = async () =>
      (
        await t.http
          .get('/admin/usage?from=2030-01-15&to=2030-01-15&group_by=user')
          .set('Authorization', admin)
      ).body as { rows: { key: string; sessions: number; seconds: number }[] };
    await eventually(async () => {
      const rows = Object.fromEntries((await usage()).rows.map((r) => [r.key, [r.sessions, r.seconds]]));
      expect(rows).toEqual({
        'u-delete': [1, 40],
        'u-hide': [1, 25],
        'u-replace': [2, 60],
        'u-admin': [1, 70],
        // Never created upstream (the answer was unusable): ended at once, charged nothing.
        'u-compensated': [1, 0],
        'u-expired': [1, 900],
      });
    });
    // Each session's end is charged once, however many parts saw it end.
    await t.broker.worker.drain();
    await t.broker.terminations.settle();
    expect((await usage()).rows.reduce((sum, r) => sum + r.sessions, 0)).toBe(7);
    const ended = t.logs.lines().filter((line) => line.event === 'session.ended');
    expect(ended).toHaveLength(7);
    const byUser = new Map<string, number>();
    for (const line of ended)
      byUser.set(
        String(line.user_id),
        (byUser.get(String(line.user_id)) ?? 0) + Number(line.duration_seconds),
      );
    expect(Object.fromEntries(byUser)).toEqual({ ...Object.fromEntries(expected), 'u-compensated': 0 });
  });
});
