import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver';
import { eventually, storeKinds } from '../helpers/world';
import { expectProblem } from '../helpers/build-test-app';
import { admin, buildBudgetWorld, endSession, startSession, started, type BudgetWorld } from './budget-world';

describe.each(storeKinds)('budget events, the service budget and the metrics (%s store)', (kind) => {
  let w: BudgetWorld;
  let receiver: WebhookReceiver;
  beforeEach(async () => {
    receiver = await startWebhookReceiver();
  });
  afterEach(async () => {
    await w.dispose();
    await receiver.close();
  });

  it('sends budget.warning at 80 % and budget.exhausted at 100 %, once per scope and window', async () => {
    w = await buildBudgetWorld(kind, {
      EVENTS_WEBHOOK_URL: receiver.url,
      EVENTS_WEBHOOK_SECRET: receiver.secret,
      AUTH_TENANT_CLAIM: 'org_id',
      USER_DAILY_MINUTES: '5',
      MAX_SESSIONS_PER_USER: '3',
      SESSION_LIMIT_POLICY: 'reject',
    });
    const { t, clock } = w;
    const acme = { org_id: 'acme' };
    // 5 minutes held at once: 100 % of the day at the first create.
    const first = await started(t, 'alice', acme);
    clock.advance(60_000);
    await endSession(t, 'alice', first, acme);
    // 4 minutes left, held again: back at 100 %, but each event was sent already.
    const second = await started(t, 'alice', acme);
    clock.advance(30_000);
    await endSession(t, 'alice', second, acme);
    await started(t, 'bob', acme);

    // In order per budget window; one user's and another's may arrive either way round.
    const budgetEvents = (user: string) =>
      receiver.received
        .filter((e) => e.type.startsWith('budget.') && e.data.user_id === user)
        .map((e) => e.type);
    await eventually(() => {
      expect(budgetEvents('alice')).toEqual(['budget.warning', 'budget.exhausted']);
      expect(budgetEvents('bob')).toEqual(['budget.warning', 'budget.exhausted']);
    });
    const exhausted = receiver.received.find(
      (e) => e.type === 'budget.exhausted' && e.data.user_id === 'alice',
    )!;
    expect(exhausted.data).toEqual({
      scope: 'user',
      user_id: 'alice',
      window: 'day',
      period: '2030-01-15',
      minutes: 5,
      used_minutes: 5,
      resets_at: '2030-01-16T00:00:00.000Z',
    });
    // Two sessions: two partitions, so their events may arrive either way round.
    await eventually(() =>
      expect(
        receiver.received
          .filter((e) => e.type === 'session.ended')
          .map((e) => [e.data.tenant, e.data.reason, e.data.duration_seconds])
          .sort(),
      ).toEqual([
        ['acme', 'user', 30],
        ['acme', 'user', 60],
      ]),
    );
    expect(t.logs.lines().filter((line) => line.event === 'budget.exhausted')).toHaveLength(2);
  });

  it('stops every user at the service budget, tells them nothing of it in /me/limits, and counts the settled seconds and the refusals', async () => {
    w = await buildBudgetWorld(kind, { SERVICE_DAILY_MINUTES: '3', MAX_SESSIONS_PER_USER: '2' });
    const { t, clock } = w;
    const first = await started(t, 'alice');
    clock.advance(100_000);
    await endSession(t, 'alice', first);
    const second = await started(t, 'bob');
    clock.advance(21_000);
    await endSession(t, 'bob', second);
    expectProblem(await startSession(t, 'carol'), 429, 'budget-exhausted', {
      scope: 'service',
      window: 'day',
    });
    const limits = await t.http.get('/me/limits').set('Authorization', await t.bearer('carol'));
    expect(limits.body).toEqual({ sessions: { live: 0, max: 2 }, budgets: [] });

    const metrics = (await t.http.get('/metrics')).text;
    expect(metrics).toContain(
      'avaturn_broker_session_seconds_total{profile="default",engine="openai-realtime"} 121',
    );
    expect(metrics).toContain('avaturn_broker_budget_rejections_total{scope="service",window="day"} 1');
    expect(metrics).not.toMatch(
      /avaturn_broker_(session_seconds|budget_rejections)_total\{[^}]*(user|tenant)=/,
    );
    const usage = await t.http
      .get('/admin/usage?from=2030-01-15&to=2030-01-15&group_by=day')
      .set('Authorization', admin);
    expect(usage.body.rows).toEqual([{ key: '2030-01-15', sessions: 2, seconds: 121 }]);
  });
});
