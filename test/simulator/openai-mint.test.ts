import { describe, expect, it } from '@jest/globals';
import OpenAI from 'openai';
import { call, fakeClock, mintSecret, realtimeSession, useSimulator } from './helpers';

function openAiError(param: string | null, code: string | null) {
  return { error: { message: expect.any(String), type: 'invalid_request_error', param, code } };
}

describe('openai mint', () => {
  it('with a GA body › answers 200 with an ek_ secret, its expiry and the echoed session, and records it', async () => {
    const clock = fakeClock();
    const sim = await useSimulator({ clock: clock.now });
    const body = { expires_after: { anchor: 'created_at', seconds: 120 }, session: realtimeSession };

    const res = await mintSecret(sim, body);

    expect(res.status).toBe(200);
    const json = res.json as { value: string; expires_at: number; session: Record<string, unknown> };
    expect(json.value).toMatch(/^ek_[\w-]{16,}$/);
    expect(json.expires_at).toBe(clock.now() / 1000 + 120);
    expect(json.session).toEqual({
      ...realtimeSession,
      object: 'realtime.session',
      id: expect.stringMatching(/^sess_/),
    });
    expect(res.headers.get('x-request-id')).toMatch(/^req_/);
    const { credentials, calls } = sim.ledger();
    expect(credentials).toEqual([
      {
        kind: 'openai-client-secret',
        value: json.value,
        createdAt: clock.now(),
        expiresAt: clock.now() + 120_000,
        request: body,
        usedBy: [],
      },
    ]);
    expect(calls).toEqual([
      {
        upstream: 'openai',
        route: 'openai.mint',
        method: 'POST',
        path: '/v1/realtime/client_secrets',
        status: 200,
        at: clock.now(),
        body,
      },
    ]);
  });

  it('without expires_after › gives the secret ten minutes', async () => {
    const clock = fakeClock();
    const sim = await useSimulator({ clock: clock.now });

    const res = await mintSecret(sim);

    expect((res.json as { expires_at: number }).expires_at).toBe(clock.now() / 1000 + 600);
  });

  it('called by the real openai SDK › returns the secret the SDK hands back', async () => {
    const sim = await useSimulator();
    const client = new OpenAI({ apiKey: sim.keys.openai, baseURL: `${sim.url}/v1`, maxRetries: 0 });

    const secret = await client.realtime.clientSecrets.create({
      expires_after: { anchor: 'created_at', seconds: 600 },
      session: { type: 'realtime', model: 'gpt-realtime-2.1', audio: { output: { voice: 'marin' } } },
    });

    expect(secret.value).toMatch(/^ek_/);
    expect(sim.ledger().credentials.map((c) => c.value)).toEqual([secret.value]);
  });

  it('called by the real openai SDK with a wrong key › surfaces an AuthenticationError with a request id', async () => {
    const sim = await useSimulator();
    const client = new OpenAI({ apiKey: 'sk-wrong', baseURL: `${sim.url}/v1`, maxRetries: 0 });

    const attempt = client.realtime.clientSecrets.create({
      session: { type: 'realtime', model: 'gpt-realtime-2.1' },
    });

    await expect(attempt).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    await expect(attempt).rejects.toMatchObject({ status: 401, requestID: expect.stringMatching(/^req_/) });
  });

  it('with a wrong key › answers 401 in the OpenAI error shape and mints nothing', async () => {
    const sim = await useSimulator();

    const res = await call(sim, '/v1/realtime/client_secrets', {
      headers: { authorization: 'Bearer sk-wrong' },
      body: { session: realtimeSession },
    });

    expect(res.status).toBe(401);
    expect(res.json).toEqual(openAiError(null, 'invalid_api_key'));
    expect(sim.ledger().credentials).toEqual([]);
  });

  it.each([
    [
      'a top-level session.voice (beta shape)',
      { session: { ...realtimeSession, voice: 'marin' } },
      'session.voice',
    ],
    [
      'session.modalities (beta shape)',
      { session: { ...realtimeSession, modalities: ['audio'] } },
      'session.modalities',
    ],
    ['an unknown top-level field', { session: realtimeSession, model: 'gpt-realtime-2.1' }, 'model'],
  ])('with %s › answers 400 unknown_parameter', async (_name, body, param) => {
    const sim = await useSimulator();

    const res = await mintSecret(sim, body);

    expect(res.status).toBe(400);
    expect(res.json).toEqual(openAiError(param, 'unknown_parameter'));
    expect(sim.ledger().credentials).toEqual([]);
  });

  it.each([
    ['expires_after.seconds below 10', { anchor: 'created_at', seconds: 9 }, 'integer_below_min_value'],
    ['expires_after.seconds above 7200', { anchor: 'created_at', seconds: 7201 }, 'integer_above_max_value'],
    ['a fractional expires_after.seconds', { anchor: 'created_at', seconds: 60.5 }, 'invalid_type'],
  ])('with %s › answers 400 naming the field', async (_name, expiresAfter, code) => {
    const sim = await useSimulator();

    const res = await mintSecret(sim, { expires_after: expiresAfter, session: realtimeSession });

    expect(res.status).toBe(400);
    expect(res.json).toEqual(openAiError('expires_after.seconds', code));
  });

  it.each([
    [
      'an anchor other than created_at',
      { expires_after: { anchor: 'now', seconds: 60 }, session: realtimeSession },
      'expires_after.anchor',
      'invalid_value',
    ],
    ['no session', {}, 'session', 'missing_required_parameter'],
    [
      'a transcription session',
      { session: { ...realtimeSession, type: 'transcription' } },
      'session.type',
      'invalid_value',
    ],
    ['no session.model', { session: { type: 'realtime' } }, 'session.model', 'missing_required_parameter'],
  ])('with %s › answers 400', async (_name, body, param, code) => {
    const sim = await useSimulator();

    const res = await mintSecret(sim, body);

    expect(res.status).toBe(400);
    expect(res.json).toEqual(openAiError(param, code));
  });

  it('with a body that is not JSON › answers 400 in the OpenAI error shape and records the raw text', async () => {
    const sim = await useSimulator();

    const res = await mintSecret(sim, '{"session":');

    expect(res.status).toBe(400);
    expect(res.json).toEqual(openAiError(null, null));
    expect(sim.ledger().calls[0]).toMatchObject({ status: 400, body: '{"session":' });
  });
});
