import { createBudgetCalendar } from '../../src/sessions/budget-calendar';
import { expectProblem } from '../helpers/build-test-app';
import { storeKinds } from '../helpers/world';
import {
  buildBudgetWorld,
  endSession,
  maxDurationOf,
  startSession,
  started,
  type BudgetWorld,
} from './budget-world';

describe('the budget calendar', () => {
  it('cuts UTC days and months at midnight', () => {
    const utc = createBudgetCalendar('UTC');
    expect(utc.periodAt(Date.parse('2030-01-31T23:59:59.999Z'))).toEqual({
      day: '2030-01-31',
      month: '2030-01',
      dayStartsAt: Date.parse('2030-01-31T00:00:00Z'),
      dayEndsAt: Date.parse('2030-02-01T00:00:00Z'),
      monthEndsAt: Date.parse('2030-02-01T00:00:00Z'),
    });
    expect(utc.periodAt(Date.parse('2030-12-31T12:00:00Z')).monthEndsAt).toBe(
      Date.parse('2031-01-01T00:00:00Z'),
    );
  });

  it("follows a zone's DST changes: a 23-hour and a 25-hour day", () => {
    const ny = createBudgetCalendar('America/New_York');
    const spring = ny.periodAt(Date.parse('2030-03-10T16:00:00Z'));
    expect(spring).toMatchObject({ day: '2030-03-10', month: '2030-03' });
    expect(spring.dayStartsAt).toBe(Date.parse('2030-03-10T05:00:00Z'));
    expect(spring.dayEndsAt).toBe(Date.parse('2030-03-11T04:00:00Z'));
    const autumn = ny.periodAt(Date.parse('2030-11-03T12:00:00Z'));
    expect(autumn.dayEndsAt - autumn.dayStartsAt).toBe(25 * 3_600_000);
    // Local 23:30 on the 2nd of November is already the 3rd in UTC.
    expect(ny.periodAt(Date.parse('2030-11-03T03:30:00Z')).day).toBe('2030-11-02');
    expect(ny.periodAt(Date.parse('2030-11-30T12:00:00Z')).monthEndsAt).toBe(
      Date.parse('2030-12-01T05:00:00Z'),
    );
  });

  it('starts a day at its first instant where midnight does not exist', () => {
    // Chile moved its clocks from 00:00 to 01:00 on 2030-09-08.
    const santiago = createBudgetCalendar('America/Santiago');
    const day = santiago.periodAt(Date.parse('2030-09-08T12:00:00Z'));
    expect(day.day).toBe('2030-09-08');
    expect(day.dayStartsAt).toBe(Date.parse('2030-09-08T04:00:00Z'));
  });
});

describe.each(storeKinds)('budget windows roll over (%s store)', (kind) => {
  let w: BudgetWorld | undefined;
  afterEach(async () => {
    await w?.dispose();
    w = undefined;
  });

  /** Uses up all but `spare` seconds of a `minutes` budget with one session ended after its run. */
  async function useUp(world: BudgetWorld, user: string, seconds: number): Promise<void> {
    const id = await started(world.t, user);
    world.clock.advance(seconds * 1000);
    await endSession(world.t, user, id);
  }

  it('gives a whole daily budget back at the next UTC midnight, not before', async () => {
    w = await buildBudgetWorld(kind, { USER_DAILY_MINUTES: '2' }, Date.parse('2030-01-15T23:50:00Z'));
    await useUp(w, 'alice', 110);
    const refused = await startSession(w.t, 'alice');
    expectProblem(refused, 429, 'budget-exhausted', { scope: 'user', window: 'day' });
    expect(Number(refused.headers['retry-after'])).toBe(
      (Date.parse('2030-01-16T00:00:00Z') - w.clock.now()) / 1000,
    );
    w.clock.set(Date.parse('2030-01-15T23:59:59Z'));
    expectProblem(await startSession(w.t, 'alice'), 429, 'budget-exhausted', {
      scope: 'user',
      window: 'day',
    });
    w.clock.set(Date.parse('2030-01-16T00:00:00Z'));
    expect(maxDurationOf(w.sim, await started(w.t, 'alice'))).toBe(120);
  });

  it('gives a monthly budget back on the first of the next month, and says which window ran out', async () => {
    w = await buildBudgetWorld(
      kind,
      { USER_DAILY_MINUTES: '10', USER_MONTHLY_MINUTES: '3' },
      Date.parse('2030-01-31T20:00:00Z'),
    );
    await useUp(w, 'alice', 150);
    const refused = await startSession(w.t, 'alice');
    expectProblem(refused, 429, 'budget-exhausted', { scope: 'user', window: 'month' });
    expect(Number(refused.headers['retry-after'])).toBe(
      Math.ceil((Date.parse('2030-02-01T00:00:00Z') - w.clock.now()) / 1000),
    );
    w.clock.set(Date.parse('2030-02-01T00:00:00Z'));
    expect(maxDurationOf(w.sim, await started(w.t, 'alice'))).toBe(180);
  });

  it('points Retry-After at the reset that gives time back when the day and the month are both spent', async () => {
    w = await buildBudgetWorld(
      kind,
      { USER_DAILY_MINUTES: '2', USER_MONTHLY_MINUTES: '2' },
      Date.parse('2030-01-31T12:00:00Z'),
    );
    await useUp(w, 'alice', 120);
    const refused = await startSession(w.t, 'alice');
    // Both end at the same midnight here; a mid-month case checks the month wins below.
    expect(Number(refused.headers['retry-after'])).toBe(
      (Date.parse('2030-02-01T00:00:00Z') - Date.parse('2030-01-31T12:02:00Z')) / 1000,
    );
    w.clock.set(Date.parse('2030-02-15T12:00:00Z'));
    await useUp(w, 'alice', 120);
    const midMonth = await startSession(w.t, 'alice');
    expectProblem(midMonth, 429, 'budget-exhausted', { scope: 'user', window: 'month' });
    expect(Number(midMonth.headers['retry-after'])).toBe(
      (Date.parse('2030-03-01T00:00:00Z') - Date.parse('2030-02-15T12:02:00Z')) / 1000,
    );
  });

  it('follows BUDGET_TIME_ZONE across a DST change: the day that lost an hour ends at local midnight', async () => {
    w = await buildBudgetWorld(
      kind,
      { USER_DAILY_MINUTES: '2', BUDGET_TIME_ZONE: 'America/New_York' },
      Date.parse('2030-03-10T16:00:00Z'),
    );
    await useUp(w, 'alice', 120);
    const limits = await w.t.http.get('/me/limits').set('Authorization', await w.t.bearer('alice'));
    expect(limits.body.budgets).toEqual([
      expect.objectContaining({ left_minutes: 0, resets_at: '2030-03-11T04:00:00.000Z' }),
    ]);
    const refused = await startSession(w.t, 'alice');
    expect(Number(refused.headers['retry-after'])).toBe(
      (Date.parse('2030-03-11T04:00:00Z') - w.clock.now()) / 1000,
    );
    // 23:59 local (03:59 UTC) is still the 10th; 00:00 local (04:00 UTC) is the 11th.
    w.clock.set(Date.parse('2030-03-11T03:59:00Z'));
    expectProblem(await startSession(w.t, 'alice'), 429, 'budget-exhausted', {
      scope: 'user',
      window: 'day',
    });
    w.clock.set(Date.parse('2030-03-11T04:00:00Z'));
    expect(maxDurationOf(w.sim, await started(w.t, 'alice'))).toBe(120);
  });
});
