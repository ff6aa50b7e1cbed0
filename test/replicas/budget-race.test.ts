import { admin, buildBudgetWorld, maxDurationOf, type BudgetWorld } from '../budgets/budget-world';
import { expectProblem } from '../helpers/build-test-app';
import { fakeClock } from '../helpers/fake-clock';

describe('one budget, two replicas, 40 concurrent creates (redis store)', () => {
  let worlds: BudgetWorld[] = [];
  afterEach(async () => {
    for (const w of worlds.reverse()) await w.dispose();
    worlds = [];
  });

  it('never holds more than the budget: the clamps add up to at most 10 minutes, every other create is 429 until local midnight', async () => {
    const env = {
      USER_DAILY_MINUTES: '10',
      SESSION_MAX_DURATION_SECONDS: '300',
      BUDGET_TIME_ZONE: 'Europe/Berlin',
      MAX_SESSIONS_PER_USER: '100',
      SESSION_LIMIT_POLICY: 'reject',
    };
    // 10:00 UTC is 11:00 in Berlin: the day ends at 23:00 UTC.
    const clock = fakeClock(Date.parse('2030-01-15T10:00:00Z'));
    const first = await buildBudgetWorld('redis', env, undefined, { clock, profiles: null });
    worlds.push(first);
    const shared = { clock, keyPrefix: first.keyPrefix, simulator: first.sim, profiles: null };
    const second = await buildBudgetWorld('redis', env, undefined, shared);
    worlds.push(second);

    const bearer = await first.t.bearer('alice');
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        (i % 2 === 0 ? first : second).t.http.post('/session').set('Authorization', bearer).send({}),
      ),
    );
    const created = answers.filter((res) => res.status === 201);
    const refused = answers.filter((res) => res.status !== 201);
    const clamps = created.map((res) => maxDurationOf(first.sim, res.body.session_id as string));
    expect(clamps.reduce((sum, s) => sum + s, 0)).toBeLessThanOrEqual(600);
    expect(clamps.every((s) => s >= 60 && s <= 300)).toBe(true);
    expect(created.length).toBeGreaterThanOrEqual(2);
    const untilMidnight = (Date.parse('2030-01-15T23:00:00Z') - clock.now()) / 1000;
    for (const res of refused) {
      expectProblem(res, 429, 'budget-exhausted', { scope: 'user', window: 'day' });
      expect(Number(res.headers['retry-after'])).toBe(untilMidnight);
    }
    // What the store holds agrees: all ten minutes held by the live sessions, none to spare.
    const limits = await second.t.http.get('/me/limits').set('Authorization', bearer);
    expect(limits.body.budgets).toEqual([
      expect.objectContaining({ minutes: 10, used_minutes: 10, left_minutes: 0 }),
    ]);
    expect(first.sim.liveSessions()).toHaveLength(created.length);
    const usage = await first.t.http
      .get('/admin/usage?from=2030-01-15&to=2030-01-15&group_by=user')
      .set('Authorization', admin);
    expect(usage.body.rows).toEqual([]);
  });
});
