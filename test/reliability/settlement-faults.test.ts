import { admin, buildBudgetWorld, started, type BudgetWorld } from '../budgets/budget-world';
import { fakeClock } from '../helpers/fake-clock';
import { eventually, expectAccountedFor } from '../helpers/world';

/** Bytes only the end's settlement carries among the commands of a DELETE: the record it settles. */
const settlementCommand = '"createdAt"';

async function usageOf(w: BudgetWorld, user: string) {
  const res = await w.t.http
    .get('/admin/usage?from=2030-01-15&to=2030-01-15&group_by=user')
    .set('Authorization', admin);
  return (res.body.rows as { key: string; sessions: number; seconds: number }[]).find((r) => r.key === user);
}

describe('settlement under store faults (redis store)', () => {
  let worlds: BudgetWorld[] = [];
  afterEach(async () => {
    for (const w of worlds.reverse()) await w.dispose();
    worlds = [];
  });

  it.each([
    ['lost with the connection', { action: 'cut' as const }],
    ['slower than the command timeout', { action: 'delay' as const, ms: 1_300 }],
  ])('charges a session once when the settlement reply is %s', async (_name, fault) => {
    const w = await buildBudgetWorld('redis', { USER_DAILY_MINUTES: '30' });
    worlds.push(w);
    const id = await started(w.t, 'alice');
    w.clock.advance(40_000);
    w.proxy!.faultNext({ match: settlementCommand, ...fault });
    const res = await w.t.http.delete(`/session/${id}`).set('Authorization', await w.t.bearer('alice'));
    expect(res.status).toBe(204);
    expect(w.proxy!.fired).toBe(1);
    await expectAccountedFor(w.t, 1);
    expect(await usageOf(w, 'alice')).toEqual({ key: 'alice', sessions: 1, seconds: 40 });
    const limits = await w.t.http.get('/me/limits').set('Authorization', await w.t.bearer('alice'));
    expect(limits.body.budgets[0]).toMatchObject({ used_minutes: 0.67, left_minutes: 29.33 });
  });

  it('charges what the session ran when its replica dies between the end and the settlement, and the other replica settles it', async () => {
    const clock = fakeClock(Date.parse('2030-01-15T10:00:00Z'));
    const env = { USER_DAILY_MINUTES: '30', UPSTREAM_TIMEOUT_MS: '500' };
    const dying = await buildBudgetWorld('redis', env, undefined, { clock });
    worlds.push(dying);
    const shared = { clock, keyPrefix: dying.keyPrefix, simulator: dying.sim };
    const survivor = await buildBudgetWorld('redis', env, undefined, shared);
    worlds.push(survivor);

    const id = await started(dying.t, 'alice');
    clock.advance(40_000);
    // Avaturn ends the session; the replica's settlement never reaches Redis, and the replica is
    // gone for good from then on (its store stays cut).
    dying.proxy!.faultNext({ match: settlementCommand, action: 'cut' });
    const cutting = (async () => {
      while (dying.proxy!.fired === 0) await new Promise((resolve) => setTimeout(resolve, 2));
      await dying.proxy!.cut();
    })();
    const ending = dying.t.http.delete(`/session/${id}`).set('Authorization', await dying.t.bearer('alice'));
    const answer = await ending;
    await cutting;
    expect(dying.sim.ledger().sessions.find((s) => s.sessionId === id)?.state).toBe('ended');
    expect(answer.status).toBe(503);

    // The other replica's queue finds the termination, Avaturn says it is gone, and the session is
    // charged to when its end was asked for, not to when the survivor got to it.
    clock.advance(120_000);
    await eventually(
      async () =>
        expect(await usageOf(survivor, 'alice')).toEqual({ key: 'alice', sessions: 1, seconds: 40 }),
      8_000,
    );
    await expectAccountedFor(survivor.t, 1);
  });
});
