import { startSimulator, type Simulator } from '../../src/simulator';
import { buildTestApp, createSessionFor, type TestApp } from '../helpers/build-test-app';
import { postAndHangUp } from '../helpers/raw-socket';
import { listenOn } from '../helpers/serve';
import { startWebhookReceiver, type ReceivedEvent, type WebhookReceiver } from '../helpers/webhook-receiver';
import { redisModes, useRedisDeployment } from '../helpers/redis-deployment';
import { buildWorld, eventually, sleep, type World } from '../helpers/world';

const adminToken = 'admin-token-that-is-long-enough-0123456789';
const fastQueue = { queue: { intervalMs: 50, backoffBaseMs: 100, backoffMaxMs: 1_000 } };

function webhookEnv(receiver: WebhookReceiver): Record<string, string> {
  return {
    EVENTS_WEBHOOK_URL: receiver.url,
    EVENTS_WEBHOOK_SECRET: receiver.secret,
    ADMIN_TOKEN: adminToken,
    MAX_SESSIONS_PER_USER: '1',
    SESSION_LIMIT_POLICY: 'replace-oldest',
  };
}

const create = createSessionFor;

/** One line per event: `<session> <type> <reason>`, in the order each session's events arrived. */
function perSession(events: ReceivedEvent[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const e of events) {
    const id = String(e.data.session_id);
    (out[id] ??= []).push(`${e.type}${e.data.reason ? ` ${String(e.data.reason)}` : ''}`);
  }
  return out;
}

function expectEachIdOnce(receiver: WebhookReceiver): void {
  const ids = receiver.received.map((e) => e.id);
  expect(new Set(ids).size).toBe(ids.length);
  expect(receiver.rejected).toBe(0);
}

describe('lifecycle events as signed webhooks (memory store)', () => {
  let receiver: WebhookReceiver;
  let sim: Simulator;
  let t: TestApp;
  /** Real time, moved ahead by the test to reach max_duration. */
  let ahead: number;
  const clock = () => Date.now() + ahead;
  beforeEach(async () => {
    ahead = 0;
    receiver = await startWebhookReceiver();
    sim = await startSimulator({ clock });
    t = await buildTestApp({ simulator: sim, env: webhookEnv(receiver), deps: { clock, ...fastQueue } });
  });
  afterEach(async () => {
    await t.close();
    await sim.close();
    await receiver.close();
  });

  it('sends one verified event per created, replaced, user, admin, compensated, abandoned and expired session', async () => {
    const replaced = await create(t, 'alice');
    const ownEnd = await create(t, 'alice');
    expect(
      (await t.http.delete(`/session/${ownEnd}`).set('Authorization', await t.bearer('alice'))).status,
    ).toBe(204);
    const byAdmin = await create(t, 'bob');
    await t.http.delete('/admin/users/bob/sessions').set('Authorization', `Bearer ${adminToken}`);
    t.sim.inject({ route: 'avaturn.create', status: 200, body: { session_id: 'orphan_1', token: '' } });
    await t.http
      .post('/session')
      .set('Authorization', await t.bearer('carol'))
      .send({});
    const abandoned = await abandonOne(t, 'dave');
    const expired = await create(t, 'erin');
    ahead += 16 * 60_000 + 60_000;

    await eventually(() => {
      expect(perSession(receiver.received)).toEqual({
        [replaced]: ['session.created', 'session.ended replaced'],
        [ownEnd]: ['session.created', 'session.ended user'],
        [byAdmin]: ['session.created', 'session.ended admin'],
        orphan_1: ['session.ended compensated'],
        [abandoned]: ['session.created', 'session.ended abandoned'],
        [expired]: ['session.created', 'session.ended expired'],
      });
    }, 10_000);
    expectEachIdOnce(receiver);

    const ended = receiver.received.find((e) => e.data.session_id === ownEnd && e.type === 'session.ended')!;
    expect(ended.id).toBe(`msg_${ownEnd}_ended`);
    expect(ended.data).toEqual({
      session_id: ownEnd,
      user_id: 'alice',
      profile: 'default',
      engine: 'openai-realtime',
      reason: 'user',
      created_at: expect.any(String),
      expires_at: expect.any(String),
      duration_seconds: expect.any(Number),
    });
    const expiredEvent = receiver.received.find(
      (e) => e.data.session_id === expired && e.type === 'session.ended',
    )!;
    // Settled to its expires_at (the profile's 900 s), however late the sweep noticed it.
    expect(expiredEvent.data.duration_seconds).toBe(900);
    const tokens = sim.ledger().sessions.map((s) => s.token);
    for (const token of tokens) expect(JSON.stringify(receiver.received)).not.toContain(token);

    const logged = t.logs.lines().filter((line) => typeof line.event === 'string');
    expect(logged.filter((line) => line.event === 'session.created')).toHaveLength(5);
    expect(
      logged
        .filter((line) => line.event === 'session.ended')
        .map((line) => line.reason)
        .sort(),
    ).toEqual(['abandoned', 'admin', 'compensated', 'expired', 'replaced', 'user']);
  });

  it('never holds up a request: with the receiver down, creates answer at once and events wait', async () => {
    await receiver.down();
    const id = await create(t, 'alice');
    expect((await t.http.delete(`/session/${id}`).set('Authorization', await t.bearer('alice'))).status).toBe(
      204,
    );
    expect(await t.broker.store.queueDepth()).toEqual({ terminate: 0, event: 2 });
    await receiver.up();
    await eventually(() => expect(receiver.received).toHaveLength(2), 15_000);
  });

  /** Starts a create, and hangs up while Avaturn is creating the session. */
  async function abandonOne(app: TestApp, user: string): Promise<string> {
    const broker = await listenOn(app.broker.app);
    const before = new Set(app.sim.ledger().sessions.map((s) => s.sessionId));
    app.sim.inject({ route: 'avaturn.create', latencyMs: 100 });
    await postAndHangUp(broker.port, await app.bearer(user), () =>
      eventually(() =>
        expect(app.sim.ledger().calls.some((c) => c.route === 'avaturn.create' && c.status === null)).toBe(
          true,
        ),
      ),
    );
    await eventually(() =>
      expect(app.sim.ledger().sessions.some((s) => !before.has(s.sessionId))).toBe(true),
    );
    await broker.close();
    return app.sim.ledger().sessions.find((s) => !before.has(s.sessionId))!.sessionId;
  }
});

describe('a webhook receiver that is down for 30 s', () => {
  it('gets every event exactly once by id, in order per session, once it is back', async () => {
    const receiver = await startWebhookReceiver();
    const t = await buildTestApp({ env: webhookEnv(receiver), deps: fastQueue });
    try {
      await receiver.down();
      const sessions: string[] = [];
      for (const user of ['alice', 'bob', 'carol']) sessions.push(await create(t, user));
      sessions.push(await create(t, 'alice'));
      await t.http.delete(`/session/${sessions[3]}`).set('Authorization', await t.bearer('alice'));
      await sleep(30_000);
      expect(receiver.received).toEqual([]);
      await receiver.up();
      await eventually(() => expect(receiver.received).toHaveLength(6), 20_000);
      expectEachIdOnce(receiver);
      expect(perSession(receiver.received)).toEqual({
        [sessions[0]!]: ['session.created', 'session.ended replaced'],
        [sessions[1]!]: ['session.created'],
        [sessions[2]!]: ['session.created'],
        [sessions[3]!]: ['session.created', 'session.ended user'],
      });
    } finally {
      await t.close();
      await receiver.close();
    }
  }, 70_000);
});

describe.each(redisModes)('a broker restart while the receiver is down (%s)', (mode) => {
  useRedisDeployment(mode);
  it('loses no event: the next replica delivers what the first one queued', async () => {
    const receiver = await startWebhookReceiver();
    const sim = await startSimulator();
    let first: World | undefined;
    let second: World | undefined;
    try {
      await receiver.down();
      first = await buildWorld(mode, { simulator: sim, env: webhookEnv(receiver), deps: fastQueue });
      const a = await create(first.t, 'alice');
      const b = await create(first.t, 'alice');
      await first.t.broker.close();
      expect(receiver.received).toEqual([]);

      second = await buildWorld(
        mode,
        { simulator: sim, env: webhookEnv(receiver), deps: fastQueue },
        { keyPrefix: first.keyPrefix },
      );
      await receiver.up();
      await eventually(() => expect(receiver.received).toHaveLength(3), 20_000);
      expectEachIdOnce(receiver);
      expect(perSession(receiver.received)).toEqual({
        [a]: ['session.created', 'session.ended replaced'],
        [b]: ['session.created'],
      });
    } finally {
      await second?.dispose();
      await first?.dispose();
      await sim.close();
      await receiver.close();
    }
  }, 40_000);
});
