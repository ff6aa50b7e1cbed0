import { describe, expect, it } from '@jest/globals';
import OpenAI from 'openai';
import { call, fakeClock, mintSecret, realtimeSession, useSimulator } from './helpers';

describe('openai models', () => {
  it('called by the real openai SDK › answers a current model with a null shutdown_date, and records the call', async () => {
    const sim = await useSimulator();
    const client = new OpenAI({ apiKey: sim.keys.openai, baseURL: `${sim.url}/v1`, maxRetries: 0 });

    const model = await client.models.retrieve('gpt-realtime-2.1');

    expect(model).toMatchObject({ id: 'gpt-realtime-2.1', object: 'model', shutdown_date: null });
    expect(sim.ledger().calls).toEqual([
      expect.objectContaining({
        route: 'openai.model',
        method: 'GET',
        path: '/v1/models/gpt-realtime-2.1',
        status: 200,
      }),
    ]);
  });

  it('for a retiring model › answers the announced shutdown date', async () => {
    const sim = await useSimulator();
    const res = await call(sim, '/v1/models/gpt-realtime-mini', {
      method: 'GET',
      headers: { authorization: `Bearer ${sim.keys.openai}` },
    });
    expect(res.json).toMatchObject({ id: 'gpt-realtime-mini', shutdown_date: '2027-01-20' });
  });

  it('for an unknown model › answers 404 model_not_found, which the SDK raises as NotFoundError', async () => {
    const sim = await useSimulator();
    const client = new OpenAI({ apiKey: sim.keys.openai, baseURL: `${sim.url}/v1`, maxRetries: 0 });

    const failure = await client.models.retrieve('gpt-imaginary').catch((err: unknown) => err);

    expect(failure).toBeInstanceOf(OpenAI.NotFoundError);
    expect((failure as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_not_found');
  });

  it('without the key › answers 401', async () => {
    const sim = await useSimulator();
    const res = await call(sim, '/v1/models/gpt-realtime-2.1', { method: 'GET' });
    expect(res.status).toBe(401);
  });

  it('set through PUT /_sim/models/:model › serves the new date, and a mint of a model past its date answers 404', async () => {
    const clock = fakeClock();
    const sim = await useSimulator({ clock: clock.now });
    const past = new Date(clock.now() - 86_400_000).toISOString().slice(0, 10);

    const put = await call(sim, '/_sim/models/gpt-realtime-2.1', {
      method: 'PUT',
      body: { shutdown_date: past },
    });
    expect(put.status).toBe(204);

    const model = await call(sim, '/v1/models/gpt-realtime-2.1', {
      method: 'GET',
      headers: { authorization: `Bearer ${sim.keys.openai}` },
    });
    expect(model.json).toMatchObject({ shutdown_date: past });
    const mint = await mintSecret(sim, { session: realtimeSession });
    expect(mint.status).toBe(404);
    expect(mint.json).toMatchObject({ error: { code: 'model_not_found' } });
    expect(sim.ledger().credentials).toEqual([]);
  });

  it('removed through DELETE /_sim/models/:model › answers 404, and a bad setting answers 400', async () => {
    const sim = await useSimulator();
    expect((await call(sim, '/_sim/models/gpt-realtime-2.1', { method: 'DELETE' })).status).toBe(204);
    const res = await call(sim, '/v1/models/gpt-realtime-2.1', {
      method: 'GET',
      headers: { authorization: `Bearer ${sim.keys.openai}` },
    });
    expect(res.status).toBe(404);
    const bad = await call(sim, '/_sim/models/x', { method: 'PUT', body: { shutdown_date: 'soon' } });
    expect(bad.status).toBe(400);
  });
});
