import { startSimulator, type Simulator } from '../../src/simulator';
import { buildTestApp, type TestApp } from '../helpers/build-test-app';
import { eventually } from '../helpers/world';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text format into samples. */
function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`unparsable metrics line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

describe('GET /metrics after a scripted mix of traffic', () => {
  let sim: Simulator;
  let receiver: WebhookReceiver;
  let t: TestApp;
  let ahead = 0;
  const clock = () => Date.now() + ahead;
  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    sim = await startSimulator({ clock });
    t = await buildTestApp({
      simulator: sim,
      env: {
        MAX_SESSIONS_PER_USER: '1',
        SESSION_LIMIT_POLICY: 'reject',
        MAX_SESSIONS_TOTAL: '3',
        RATE_LIMIT_PER_MINUTE: '2',
        EVENTS_WEBHOOK_URL: receiver.url,
        EVENTS_WEBHOOK_SECRET: receiver.secret,
      },
      deps: { clock, queue: { intervalMs: 50, backoffBaseMs: 50, backoffMaxMs: 200 } },
    });
  });
  afterAll(async () => {
    await t.close();
    await sim.close();
    await receiver.close();
  });

  const post = async (user: string, profile?: string) =>
    t.http
      .post('/session')
      .set('Authorization', await t.bearer(user))
      .send(profile === undefined ? {} : { profile });

  it('counts every series with bounded labels only', async () => {
    const alice = await post('alice');
    expect(alice.status).toBe(201);
    expect((await post('alice')).status).toBe(429); // user cap
    expect((await post('bob', 'support')).status).toBe(201);
    expect((await post('carol')).status).toBe(201);
    expect((await post('dave')).status).toBe(429); // global cap
    expect((await post('alice')).status).toBe(429); // rate limit: alice's third create in a minute
    sim.inject({ route: 'openai.mint', status: 401 });
    await t.http.delete(`/session/${alice.body.session_id}`).set('Authorization', await t.bearer('alice'));
    expect((await post('erin')).status).toBe(502);
    await t.http.get('/no/such/route');
    ahead += 16 * 60_000 + 60_000; // bob's and carol's sessions pass max_duration
    let samples: Sample[] = [];
    const value = (name: string, labels: Record<string, string> = {}) =>
      samples
        .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
        .reduce((sum, s) => sum + s.value, 0);
    // A lapsed session stops counting as live at once, but is ended (and its event queued) only
    // when the worker sweeps it: wait for the sweep and for the webhook to take every event.
    await eventually(async () => {
      samples = parse((await t.http.get('/metrics')).text);
      expect(value('avaturn_broker_sessions_ended_total', { reason: 'expired' })).toBe(2);
      expect((await t.broker.store.countAll()) + (await t.broker.store.queueDepth()).event).toBe(0);
    });
    samples = parse((await t.http.get('/metrics')).text);

    expect(value('avaturn_broker_sessions_created_total')).toBe(3);
    expect(value('avaturn_broker_sessions_created_total', { profile: 'support', engine: 'cartesia' })).toBe(
      1,
    );
    expect(value('avaturn_broker_rejections_total', { reason: 'user-cap' })).toBe(1);
    expect(value('avaturn_broker_rejections_total', { reason: 'global-cap' })).toBe(1);
    expect(value('avaturn_broker_rejections_total', { reason: 'rate-user' })).toBe(1);
    expect(value('avaturn_broker_session_create_failures_total', { code: 'upstream-error' })).toBe(1);
    expect(value('avaturn_broker_session_create_failures_total', { code: 'session-limit' })).toBe(2);
    expect(
      value('avaturn_broker_time_to_session_seconds_count', {
        engine: 'openai-realtime',
        preminted: 'false',
      }),
    ).toBe(2);
    expect(value('avaturn_broker_sessions_ended_total', { reason: 'user' })).toBe(1);
    expect(value('avaturn_broker_sessions_ended_total', { reason: 'expired' })).toBe(2);
    expect(value('avaturn_broker_session_lifetime_seconds_count', { reason: 'expired' })).toBe(2);
    expect(value('avaturn_broker_terminations_total', { outcome: 'terminated' })).toBe(1);
    expect(value('avaturn_broker_queue_jobs', { topic: 'terminate' })).toBe(0);
    expect(value('avaturn_broker_queue_jobs', { topic: 'event' })).toBe(0);
    expect(value('avaturn_broker_webhook_deliveries_total', { outcome: 'delivered' })).toBe(6);
    expect(value('avaturn_broker_live_sessions')).toBe(0);
    expect(
      value('avaturn_broker_upstream_request_duration_seconds_count', {
        upstream: 'openai',
        operation: 'mint',
        outcome: 'ok',
      }),
    ).toBe(2);
    expect(
      value('avaturn_broker_upstream_request_duration_seconds_count', {
        upstream: 'openai',
        operation: 'mint',
        outcome: 'status-4xx',
      }),
    ).toBe(1);
    expect(
      value('avaturn_broker_upstream_request_duration_seconds_count', {
        upstream: 'avaturn',
        operation: 'create',
        outcome: 'ok',
      }),
    ).toBe(3);
    expect(
      value('avaturn_broker_upstream_request_duration_seconds_count', {
        upstream: 'avaturn',
        operation: 'terminate',
        outcome: 'ok',
      }),
    ).toBe(1);
    for (const upstream of ['avaturn-create', 'avaturn-terminate']) {
      expect(value('avaturn_broker_circuit_state', { upstream, state: 'closed' })).toBe(1);
      expect(value('avaturn_broker_circuit_state', { upstream, state: 'open' })).toBe(0);
    }
    expect(
      value('avaturn_broker_http_request_duration_seconds_count', {
        route: '/session',
        method: 'POST',
        status: '201',
      }),
    ).toBe(3);
    expect(
      value('avaturn_broker_http_request_duration_seconds_count', {
        route: '/session/:id',
        method: 'DELETE',
        status: '204',
      }),
    ).toBe(1);
    expect(
      value('avaturn_broker_http_request_duration_seconds_count', { route: 'unmatched', status: '404' }),
    ).toBe(1);

    // Bounded labels: no user id, session id, token or path with an id anywhere.
    const labelValues = samples.flatMap((s) => Object.values(s.labels));
    const sessionIds = sim.ledger().sessions.map((s) => s.sessionId);
    for (const forbidden of ['alice', 'bob', 'carol', 'erin', ...sessionIds]) {
      expect(labelValues.some((v) => v.includes(forbidden))).toBe(false);
    }
  });
});
