import { describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createOpenAiSession,
  createSession,
  mintCartesiaToken,
  mintSecret,
  terminateSession,
  useSimulator,
} from './helpers';

async function elapsed<T>(work: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const start = performance.now();
  const result = await work();
  return { ms: performance.now() - start, result };
}

async function openAiEngine(sim: Parameters<typeof mintSecret>[0]) {
  const { value } = (await mintSecret(sim)).json as { value: string };
  return { conversation_engine: { type: 'openai-realtime', client_secret: value } };
}

describe('fault: status', () => {
  it('on openai.mint with Retry-After › answers it once in the OpenAI error shape, mints nothing, then recovers', async () => {
    const sim = await useSimulator();
    sim.inject({ route: 'openai.mint', status: 503, retryAfter: '7' });

    const failed = await mintSecret(sim);
    const recovered = await mintSecret(sim);

    expect(failed.status).toBe(503);
    expect(failed.headers.get('retry-after')).toBe('7');
    expect(failed.json).toEqual({
      error: { message: 'Service Unavailable', type: 'server_error', param: null, code: null },
    });
    expect(recovered.status).toBe(200);
    expect(sim.ledger().credentials).toHaveLength(1);
    expect(sim.ledger().calls.map((c) => c.status)).toEqual([503, 200]);
  });

  it('on cartesia.mint › follows the Cartesia-Version error style', async () => {
    const sim = await useSimulator();
    sim.inject({ route: 'cartesia.mint', status: 429, times: 2 });

    const structured = await mintCartesiaToken(sim, undefined, { 'cartesia-version': '2026-03-01' });
    const plain = await mintCartesiaToken(sim);

    expect(structured.status).toBe(429);
    expect(structured.json).toMatchObject({ error_code: 'too_many_requests', title: 'Too Many Requests' });
    expect(plain.status).toBe(429);
    expect(plain.headers.get('content-type')).toMatch(/^text\/plain/);
  });

  it('on avaturn.create › answers a FastAPI detail and starts nothing', async () => {
    const sim = await useSimulator();
    const engine = await openAiEngine(sim);
    sim.inject({ route: 'avaturn.create', status: 410 });

    const res = await createSession(sim, engine);

    expect(res.status).toBe(410);
    expect(res.json).toEqual({ detail: 'Gone' });
    expect(sim.liveSessions()).toEqual([]);
  });

  it('with a JSON body › answers that body', async () => {
    const sim = await useSimulator();
    sim.inject({ route: 'avaturn.create', status: 429, body: { detail: 'limits_exceeded' } });

    const res = await createSession(sim, await openAiEngine(sim));

    expect(res.status).toBe(429);
    expect(res.json).toEqual({ detail: 'limits_exceeded' });
  });

  it('with a string body and no status › answers 200 with that text, a malformed success', async () => {
    const sim = await useSimulator();
    sim.inject({ route: 'openai.mint', body: '<html>proxy</html>' });

    const res = await mintSecret(sim);

    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(res.text).toBe('<html>proxy</html>');
  });

  it('with afterEffect › still starts the session it answers an error for', async () => {
    const sim = await useSimulator();
    const engine = await openAiEngine(sim);
    sim.inject({ route: 'avaturn.create', status: 504, afterEffect: true });

    const res = await createSession(sim, engine);

    expect(res.status).toBe(504);
    expect(sim.liveSessions()).toHaveLength(1);
  });

  it('on one route › leaves the other routes alone', async () => {
    const sim = await useSimulator();
    sim.inject({ route: 'avaturn.terminate', status: 500 });

    expect((await mintSecret(sim)).status).toBe(200);
    expect((await mintCartesiaToken(sim)).status).toBe(200);
  });
});

describe('fault: times', () => {
  it('of 2 › applies to the next two calls only', async () => {
    const sim = await useSimulator();
    sim.inject({ route: 'openai.mint', status: 500, times: 2 });

    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await mintSecret(sim)).status);

    expect(statuses).toEqual([500, 500, 200]);
  });

  it('of 0 › applies until the faults are cleared', async () => {
    const sim = await useSimulator();
    sim.inject({ route: 'openai.mint', status: 502, times: 0 });

    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await mintSecret(sim)).status);
    sim.clearFaults();
    statuses.push((await mintSecret(sim)).status);

    expect(statuses).toEqual([502, 502, 502, 502, 200]);
  });

  it('queued for one route › apply in the order injected', async () => {
    const sim = await useSimulator();
    sim.inject({ route: 'openai.mint', status: 500 });
    sim.inject({ route: 'openai.mint', status: 429 });

    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await mintSecret(sim)).status);

    expect(statuses).toEqual([500, 429, 200]);
  });
});

describe('fault: latency', () => {
  it('of 150 ms › delays a normal answer', async () => {
    const sim = await useSimulator();
    sim.inject({ route: 'openai.mint', latencyMs: 150 });

    const slow = await elapsed(() => mintSecret(sim));

    expect(slow.ms).toBeGreaterThanOrEqual(140);
    expect(slow.result.status).toBe(200);
  });

  it('as a range › delays within it', async () => {
    const sim = await useSimulator();
    sim.inject({ route: 'cartesia.mint', latencyMs: { min: 100, max: 150 } });

    const slow = await elapsed(() => mintCartesiaToken(sim));

    expect(slow.ms).toBeGreaterThanOrEqual(90);
    expect(slow.result.status).toBe(200);
  });

  it('set for the whole simulator › delays every route', async () => {
    const sim = await useSimulator({ latencyMs: 100 });

    const slow = await elapsed(() => mintSecret(sim));

    expect(slow.ms).toBeGreaterThanOrEqual(90);
  });

  it('longer than the client waits, without afterEffect › starts no session', async () => {
    const sim = await useSimulator();
    const engine = await openAiEngine(sim);
    sim.inject({ route: 'avaturn.create', latencyMs: 300 });

    await expect(createSession(sim, engine, AbortSignal.timeout(100))).rejects.toThrow();
    await sleep(350);

    expect(sim.liveSessions()).toEqual([]);
    expect(sim.ledger().calls.at(-1)).toMatchObject({ route: 'avaturn.create', status: null });
  });

  it('longer than the client waits, with afterEffect › starts the session the client never hears of', async () => {
    const sim = await useSimulator();
    const engine = await openAiEngine(sim);
    sim.inject({ route: 'avaturn.create', latencyMs: 300, afterEffect: true });

    await expect(createSession(sim, engine, AbortSignal.timeout(100))).rejects.toThrow();

    expect(sim.liveSessions()).toHaveLength(1);
  });
});

describe('fault: hang', () => {
  it('on openai.mint › never answers, records a null status, and the next call is answered', async () => {
    const sim = await useSimulator();
    sim.inject({ route: 'openai.mint', hang: true });

    const hung = fetch(`${sim.url}/v1/realtime/client_secrets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sim.keys.openai}`, 'content-type': 'application/json' },
      body: JSON.stringify({ session: { type: 'realtime', model: 'gpt-realtime-2.1' } }),
      signal: AbortSignal.timeout(200),
    });

    await expect(hung).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(sim.ledger().calls).toMatchObject([{ route: 'openai.mint', status: null }]);
    expect(sim.ledger().credentials).toEqual([]);
    expect((await mintSecret(sim)).status).toBe(200);
  });

  it('on avaturn.create with afterEffect › starts the session while the client times out', async () => {
    const sim = await useSimulator();
    const engine = await openAiEngine(sim);
    sim.inject({ route: 'avaturn.create', hang: true, afterEffect: true });

    await expect(createSession(sim, engine, AbortSignal.timeout(150))).rejects.toThrow();

    expect(sim.liveSessions()).toHaveLength(1);
    expect(sim.ledger().calls.at(-1)).toMatchObject({ route: 'avaturn.create', status: null });
  });

  it('when the simulator closes › the hanging request fails and close resolves promptly', async () => {
    const sim = await useSimulator();
    sim.inject({ route: 'openai.mint', hang: true });
    const hung = mintSecret(sim);
    await sleep(50);

    const closing = await elapsed(() => sim.close());

    await expect(hung).rejects.toThrow();
    expect(closing.ms).toBeLessThan(1000);
  });
});

describe('fault: reset', () => {
  it('on cartesia.mint › drops the connection without an answer', async () => {
    const sim = await useSimulator();
    sim.inject({ route: 'cartesia.mint', reset: true });

    await expect(mintCartesiaToken(sim)).rejects.toThrow('fetch failed');

    expect(sim.ledger().calls).toMatchObject([{ route: 'cartesia.mint', status: null }]);
    expect(sim.ledger().credentials).toEqual([]);
  });

  it('on avaturn.terminate with afterEffect › ends the session though the client saw a reset', async () => {
    const sim = await useSimulator();
    const { session } = await createOpenAiSession(sim);
    sim.inject({ route: 'avaturn.terminate', reset: true, afterEffect: true });

    await expect(terminateSession(sim, session.session_id)).rejects.toThrow('fetch failed');

    expect(sim.liveSessions()).toEqual([]);
    expect(sim.ledger().sessions[0]).toMatchObject({ state: 'ended', endedBy: 'delete' });
  });
});

describe('fault: injecting', () => {
  it.each([
    ['an unknown route', { route: 'openai.other' }],
    ['a negative times', { route: 'openai.mint', times: -1 }],
    ['a status out of range', { route: 'openai.mint', status: 600 }],
    ['a latency range upside down', { route: 'openai.mint', latencyMs: { min: 200, max: 100 } }],
    ['an unknown field', { route: 'openai.mint', hnag: true }],
  ])('with %s › throws', async (_name, fault) => {
    const sim = await useSimulator();

    expect(() => sim.inject(fault as never)).toThrow();
  });

  it('a latency range upside down as the simulator default › refuses to start', async () => {
    await expect(useSimulator({ latencyMs: { min: 200, max: 100 } })).rejects.toThrow();
  });
});
