import { describe, expect, it } from '@jest/globals';
import { call, fakeClock, mintCartesiaToken, useSimulator } from './helpers';

const structuredError = (errorCode: string) => ({
  error_code: errorCode,
  title: expect.any(String),
  message: expect.any(String),
  request_id: expect.any(String),
});

describe('cartesia mint', () => {
  it('with a key, a version and grants › answers 200 with a token and records it', async () => {
    const clock = fakeClock();
    const sim = await useSimulator({ clock: clock.now });
    const body = { grants: { agent: true }, expires_in: 300 };

    const res = await mintCartesiaToken(sim, body);

    expect(res.status).toBe(200);
    const { token } = res.json as { token: string };
    expect(res.json).toEqual({ token: expect.any(String) });
    expect(sim.ledger().credentials).toEqual([
      {
        kind: 'cartesia-access-token',
        value: token,
        createdAt: clock.now(),
        expiresAt: clock.now() + 300_000,
        request: body,
        usedBy: [],
      },
    ]);
    expect(sim.ledger().calls).toMatchObject([
      { upstream: 'cartesia', route: 'cartesia.mint', status: 200, body },
    ]);
  });

  it('with the key in X-API-Key instead of Authorization › answers 200', async () => {
    const sim = await useSimulator();

    const res = await call(sim, '/access-token', {
      headers: { 'x-api-key': sim.keys.cartesia, 'cartesia-version': '2025-04-16' },
      body: { grants: { tts: true } },
    });

    expect(res.status).toBe(200);
  });

  it('with a wrong key on an old version › answers 401 in plain text', async () => {
    const sim = await useSimulator();

    const res = await mintCartesiaToken(sim, undefined, { authorization: 'Bearer wrong' });

    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(res.json).toBeUndefined();
    expect(res.text.length).toBeGreaterThan(0);
    expect(sim.ledger().credentials).toEqual([]);
  });

  it('with a wrong key on 2026-03-01 › answers 401 as structured JSON', async () => {
    const sim = await useSimulator();

    const res = await mintCartesiaToken(sim, undefined, {
      authorization: 'Bearer wrong',
      'cartesia-version': '2026-03-01',
    });

    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.json).toEqual(structuredError('unauthorized'));
  });

  it('without Cartesia-Version › answers 400 in plain text and mints nothing', async () => {
    const sim = await useSimulator();

    const res = await call(sim, '/access-token', {
      headers: { authorization: `Bearer ${sim.keys.cartesia}` },
      body: { grants: { agent: true } },
    });

    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(res.text).toMatch(/Cartesia-Version/);
    expect(sim.ledger().credentials).toEqual([]);
  });

  it('with a Cartesia-Version that is not a date › answers 400', async () => {
    const sim = await useSimulator();

    const res = await mintCartesiaToken(sim, undefined, { 'cartesia-version': 'latest' });

    expect(res.status).toBe(400);
  });

  it.each([
    ['expires_in above 3600', { grants: { agent: true }, expires_in: 3601 }, 'expires_in is invalid'],
    ['expires_in of 0', { grants: { agent: true }, expires_in: 0 }, 'expires_in is invalid'],
    ['no grants', { expires_in: 60 }, 'grants is required'],
    ['a grant that is not boolean', { grants: { agent: 'yes' } }, 'grants.agent is invalid'],
    ['an unknown grant', { grants: { admin: true } }, 'grants.admin is not allowed'],
  ])('with %s › answers 400 saying which field', async (_name, body, message) => {
    const sim = await useSimulator();

    const structured = await mintCartesiaToken(sim, body, { 'cartesia-version': '2026-03-01' });
    const plain = await mintCartesiaToken(sim, body);

    expect(structured.status).toBe(400);
    expect(structured.json).toEqual({ ...structuredError('invalid_request'), message });
    expect(plain.status).toBe(400);
    expect(plain.text).toBe(message);
  });

  it('with a body that is not JSON on 2026-03-01 › answers 400 as structured JSON', async () => {
    const sim = await useSimulator();

    const res = await mintCartesiaToken(sim, 'grants=agent', { 'cartesia-version': '2026-03-01' });

    expect(res.status).toBe(400);
    expect(res.json).toEqual(structuredError('bad_request'));
  });
});
