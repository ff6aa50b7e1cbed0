import { describe, expect, it } from '@jest/globals';
import { call, createOpenAiSession, fakeClock, mintSecret, useSimulator } from './helpers';

describe('simulator control routes', () => {
  it('GET /_sim/ledger › answers what sim.ledger() holds, and leaves no call of its own', async () => {
    const clock = fakeClock();
    const sim = await useSimulator({ clock: clock.now });
    await createOpenAiSession(sim);

    const res = await call(sim, '/_sim/ledger', { method: 'GET' });

    expect(res.status).toBe(200);
    expect(res.json).toEqual(sim.ledger());
    expect(sim.ledger().calls.map((c) => c.route)).toEqual(['openai.mint', 'avaturn.create']);
  });

  it('POST /_sim/faults › arms the fault it is given', async () => {
    const sim = await useSimulator();

    const armed = await call(sim, '/_sim/faults', {
      body: { route: 'openai.mint', status: 429, retryAfter: '3' },
    });
    const res = await mintSecret(sim);

    expect(armed.status).toBe(204);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('3');
  });

  it('POST /_sim/faults with an invalid fault › answers 400 and arms nothing', async () => {
    const sim = await useSimulator();

    const res = await call(sim, '/_sim/faults', { body: { route: 'openai.mint', status: 'soon' } });

    expect(res.status).toBe(400);
    expect((await mintSecret(sim)).status).toBe(200);
  });

  it('DELETE /_sim/faults › disarms every fault', async () => {
    const sim = await useSimulator();
    sim.inject({ route: 'openai.mint', status: 500, times: 0 });

    const res = await call(sim, '/_sim/faults', { method: 'DELETE' });

    expect(res.status).toBe(204);
    expect((await mintSecret(sim)).status).toBe(200);
  });

  it('POST /_sim/reset › forgets the ledger and the faults', async () => {
    const sim = await useSimulator();
    await createOpenAiSession(sim);
    sim.inject({ route: 'openai.mint', status: 500 });

    const res = await call(sim, '/_sim/reset');

    expect(res.status).toBe(204);
    expect(sim.ledger()).toEqual({ credentials: [], sessions: [], calls: [] });
    expect((await mintSecret(sim)).status).toBe(200);
  });

  it('an unknown /_sim route › answers 404', async () => {
    const sim = await useSimulator();

    expect((await call(sim, '/_sim/nothing', { method: 'GET' })).status).toBe(404);
  });
});

describe('simulator routing', () => {
  it('a path no upstream serves › answers 404 and is not recorded', async () => {
    const sim = await useSimulator();

    const res = await call(sim, '/v1/realtime/sessions', { body: {} });

    expect(res.status).toBe(404);
    expect(sim.ledger().calls).toEqual([]);
  });

  it('a known path with the wrong method › answers 405', async () => {
    const sim = await useSimulator();

    expect((await call(sim, '/api/v1/sessions', { method: 'GET' })).status).toBe(405);
  });

  it('started with its own keys › accepts only those', async () => {
    const sim = await useSimulator({ keys: { openai: 'sk-custom' } });

    expect(sim.keys).toEqual({
      avaturn: 'sim-avaturn-key',
      openai: 'sk-custom',
      cartesia: 'sim-cartesia-key',
    });
    expect((await mintSecret(sim)).status).toBe(200);
    expect(
      (
        await call(sim, '/v1/realtime/client_secrets', {
          headers: { authorization: 'Bearer sim-openai-key' },
          body: {},
        })
      ).status,
    ).toBe(401);
  });

  it('its url › has no trailing slash and points at 127.0.0.1', async () => {
    const sim = await useSimulator();

    expect(sim.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });
});
