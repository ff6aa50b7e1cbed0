import { describe, expect, it } from '@jest/globals';
import { createSession, fakeClock, mintCartesiaToken, useSimulator } from './helpers';

const engine = {
  type: 'external',
  url: 'wss://agent.example.com/avaturn',
  audio: { user: { sample_rate: 24000 } },
  headers: { 'X-Tenant': 'acme', Authorization: 'Bearer a.b.c' },
};

describe('avaturn create with the external engine', () => {
  it('with a wss:// URL, a sample rate and headers › answers 200 and records the request as sent', async () => {
    const clock = fakeClock();
    const sim = await useSimulator({ clock: clock.now });
    const body = { conversation_engine: engine, max_duration: 900, user_absent_timeout: 60, model: 'golf' };

    const res = await createSession(sim, body);

    expect(res.status).toBe(200);
    const { session_id: sessionId, token } = res.json as { session_id: string; token: string };
    expect(sim.liveSessions()).toEqual([
      { sessionId, token, state: 'live', createdAt: clock.now(), request: body },
    ]);
    expect(sim.ledger().credentials).toEqual([]);
  });

  it.each([
    ['headers of null', { headers: null }],
    ['no headers', { headers: undefined }],
    ['a ws:// URL', { url: 'ws://agent.example.com:8765' }],
    ['a sample rate of 16000', { audio: { user: { sample_rate: 16000 } } }],
  ])('with %s › answers 200', async (_name, change) => {
    const sim = await useSimulator();

    const res = await createSession(sim, { conversation_engine: { ...engine, ...change } });

    expect(res.status).toBe(200);
  });

  const at = (...path: string[]) => ['body', 'conversation_engine', ...path];
  it.each([
    [
      'an https URL',
      { url: 'https://agent.example.com' },
      at('url'),
      'url_scheme',
      "URL scheme should be 'ws' or 'wss'",
    ],
    ['a URL that does not parse', { url: 'agent' }, at('url'), 'url_parsing', expect.any(String)],
    ['no URL', { url: undefined }, at('url'), 'missing', 'Field required'],
    [
      'a sample rate of 8000',
      { audio: { user: { sample_rate: 8000 } } },
      at('audio', 'user', 'sample_rate'),
      'literal_error',
      'Input should be 16000 or 24000',
    ],
    ['no audio', { audio: undefined }, at('audio'), 'missing', 'Field required'],
    ['headers as a string', { headers: 'X-Tenant: acme' }, at('headers'), 'dict_type', expect.any(String)],
    [
      'a header value that is a number',
      { headers: { 'X-N': 1 } },
      at('headers', 'X-N'),
      'string_type',
      expect.any(String),
    ],
    ['an unknown key', { voice: 'marin' }, at('voice'), 'extra_forbidden', expect.any(String)],
  ])('with %s › answers 422 locating the field and starts nothing', async (_name, change, loc, type, msg) => {
    const sim = await useSimulator();

    const res = await createSession(sim, { conversation_engine: { ...engine, ...change } });

    expect(res.status).toBe(422);
    expect(res.json).toEqual({ detail: [{ loc, msg, type }] });
    expect(sim.liveSessions()).toEqual([]);
    expect(sim.ledger().calls).toMatchObject([
      { route: 'avaturn.create', status: 422, body: expect.any(Object) },
    ]);
  });
});

describe('fault: a Cartesia error code', () => {
  it('on cartesia.mint with concurrency_limited › answers 429 in the documented shape, or plain text on old versions', async () => {
    const sim = await useSimulator();
    sim.inject({
      route: 'cartesia.mint',
      status: 429,
      errorCode: 'concurrency_limited',
      retryAfter: '9',
      times: 2,
    });

    const structured = await mintCartesiaToken(sim, undefined, { 'cartesia-version': '2026-03-01' });
    const plain = await mintCartesiaToken(sim);

    expect(structured.status).toBe(429);
    expect(structured.headers.get('retry-after')).toBe('9');
    expect(structured.json).toEqual({
      error_code: 'concurrency_limited',
      title: 'Too many concurrent requests',
      message: "You have exceeded your plan's concurrency limit.",
      request_id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
    });
    expect(plain.status).toBe(429);
    expect(plain.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(sim.ledger().credentials).toEqual([]);
  });

  it('refuses an error code that is not a plain machine name', async () => {
    const sim = await useSimulator();
    expect(() => sim.inject({ route: 'cartesia.mint', status: 429, errorCode: 'Not A Code' })).toThrow();
  });
});
