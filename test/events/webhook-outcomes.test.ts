import { afterEach, describe, expect, it } from '@jest/globals';
import { buildTestApp, createSessionFor, type TestApp } from '../helpers/build-test-app';
import { listenOn } from '../helpers/serve';
import { webhookSecret } from '../helpers/webhook-receiver';
import { eventually, sleep } from '../helpers/waiting';

/** A receiver whose n-th answer (from 1) is what `answer` says; it counts what it was sent. */
async function startReceiver(answer: (hit: number) => { status: number; body?: string }) {
  let hits = 0;
  const listening = await listenOn((req, res) => {
    req.resume();
    req.on('end', () => {
      const { status, body } = answer(++hits);
      res.writeHead(status, { 'content-type': 'text/plain' }).end(body);
    });
  });
  return {
    url: `${listening.url}/hooks`,
    hits: () => hits,
    close: () => listening.close(),
  };
}

let t: TestApp | undefined;
let receiver: Awaited<ReturnType<typeof startReceiver>> | undefined;
afterEach(async () => {
  await t?.close();
  await receiver?.close();
  t = receiver = undefined;
});

async function brokerWithReceiver(answer: Parameters<typeof startReceiver>[0], resetTimeoutMs = 10_000) {
  receiver = await startReceiver(answer);
  t = await buildTestApp({
    env: { EVENTS_WEBHOOK_URL: receiver.url, EVENTS_WEBHOOK_SECRET: webhookSecret },
    deps: { upstreamOptions: { circuit: { volumeThreshold: 2, resetTimeoutMs } } },
  });
  return t;
}

async function deliveries(app: TestApp): Promise<Record<string, number>> {
  const text = (await app.http.get('/metrics')).text;
  const counts: Record<string, number> = {};
  for (const [, outcome, value] of text.matchAll(
    /^avaturn_broker_webhook_deliveries_total\{outcome="([a-z]+)"\} (\d+)$/gm,
  ))
    counts[outcome!] = Number(value);
  return counts;
}

const warnings = (app: TestApp, msg: string | RegExp) =>
  app.logs.lines().filter((line) => line.level === 'warn' && String(line.msg).match(msg));

describe('webhook deliveries decided by the status alone', () => {
  it('a 2xx with a body far over the 64 KiB cap › is delivered once and never sent again', async () => {
    const app = await brokerWithReceiver(() => ({ status: 200, body: 'x'.repeat(200 * 1024) }));
    await createSessionFor(app, 'alice');
    await eventually(async () => expect(await deliveries(app)).toEqual({ delivered: 1 }));
    await sleep(500);
    expect(receiver!.hits()).toBe(1);
    expect(await app.broker.store.queueDepth()).toMatchObject({ event: 0 });
  });

  it('a 410 Gone › drops the event at once, counted as gone and warned, without a retry', async () => {
    const app = await brokerWithReceiver(() => ({ status: 410, body: 'no such hook' }));
    await createSessionFor(app, 'alice');
    await eventually(async () => expect(await deliveries(app)).toEqual({ gone: 1 }));
    await sleep(500);
    expect(receiver!.hits()).toBe(1);
    expect(await app.broker.store.queueDepth()).toMatchObject({ event: 0 });
    expect(warnings(app, /410 Gone; event dropped/)).toHaveLength(1);
  });
});

describe('webhook deliveries that fail', () => {
  it('warn once per event at the first failure, and once at each change of the webhook circuit', async () => {
    const app = await brokerWithReceiver((hit) => ({ status: hit <= 2 ? 503 : 204 }), 1_500);
    await createSessionFor(app, 'alice');
    await eventually(() => expect(warnings(app, 'webhook circuit open')).toHaveLength(1), 5_000);
    // An event that meets the open circuit: the opening said it all, no line of its own.
    await createSessionFor(app, 'bob');
    await eventually(async () => expect((await deliveries(app)).delivered).toBe(2), 5_000);
    expect(receiver!.hits()).toBe(4);

    expect((await deliveries(app)).failed).toBeGreaterThanOrEqual(2);
    const failures = warnings(app, 'webhook delivery failed; retrying');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      kind: 'status',
      status: 503,
      eventId: expect.stringMatching(/_created$/),
    });
    expect(JSON.stringify(failures)).not.toContain(receiver!.url);
    const circuit = warnings(app, /^webhook circuit/).map((line) => line.state);
    expect(circuit).toEqual(['open', 'half-open', 'closed']);
  });
});
