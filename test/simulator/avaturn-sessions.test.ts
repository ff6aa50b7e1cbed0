import { describe, expect, it } from '@jest/globals';
import type { SimLedger } from '../../src/simulator';
import {
  call,
  createOpenAiSession,
  createSession,
  fakeClock,
  mintCartesiaToken,
  mintSecret,
  terminateSession,
  useSimulator,
} from './helpers';

async function mintedSecret(sim: Parameters<typeof mintSecret>[0]): Promise<string> {
  return ((await mintSecret(sim)).json as { value: string }).value;
}

describe('avaturn create', () => {
  it('with a minted OpenAI secret › answers 200 with an id and a token, and records a live session', async () => {
    const clock = fakeClock();
    const sim = await useSimulator({ clock: clock.now });
    const secret = await mintedSecret(sim);
    const body = {
      avatar_id: 'jane_20240829',
      background: 'transparent',
      conversation_engine: { type: 'openai-realtime', client_secret: secret },
      max_duration: 900,
      user_absent_timeout: 60,
    };

    const res = await createSession(sim, body);

    expect(res.status).toBe(200);
    const { session_id: sessionId, token } = res.json as { session_id: string; token: string };
    expect(res.json).toEqual({ session_id: expect.stringMatching(/^[\w-]+$/), token: expect.any(String) });
    expect(sim.liveSessions()).toEqual([
      { sessionId, token, state: 'live', createdAt: clock.now(), request: body },
    ]);
    expect(sim.ledger().credentials[0]?.usedBy).toEqual([sessionId]);
    expect(sim.ledger().calls.at(-1)).toMatchObject({
      upstream: 'avaturn',
      route: 'avaturn.create',
      status: 200,
    });
  });

  it('with one OpenAI secret twice › starts two sessions, both recorded against the secret', async () => {
    const sim = await useSimulator();
    const secret = await mintedSecret(sim);
    const engine = { type: 'openai-realtime', client_secret: secret };

    const first = await createSession(sim, { conversation_engine: engine });
    const second = await createSession(sim, { conversation_engine: engine });

    const ids = [first, second].map((res) => (res.json as { session_id: string }).session_id);
    expect(new Set(ids).size).toBe(2);
    expect(sim.ledger().credentials[0]?.usedBy).toEqual(ids);
  });

  it('with a Cartesia token holding the agent grant › answers 200', async () => {
    const sim = await useSimulator();
    const { token } = (await mintCartesiaToken(sim)).json as { token: string };

    const res = await createSession(sim, {
      conversation_engine: { type: 'cartesia', access_token: token, agent_id: 'agent_123' },
    });

    expect(res.status).toBe(200);
    expect(sim.liveSessions()).toHaveLength(1);
  });

  it.each([
    ['model', 'delta'],
    ['render_model', 'golf'],
  ])('with the render preset as %s=%s › answers 200', async (field, preset) => {
    const sim = await useSimulator();

    const res = await createOpenAiSession(sim, { [field]: preset });

    expect(res.created.status).toBe(200);
  });

  it('with a wrong key › answers 401 and starts nothing', async () => {
    const sim = await useSimulator();
    const secret = await mintedSecret(sim);

    const res = await call(sim, '/api/v1/sessions', {
      headers: { authorization: 'Bearer wrong' },
      body: { conversation_engine: { type: 'openai-realtime', client_secret: secret } },
    });

    expect(res.status).toBe(401);
    expect(res.json).toEqual({ detail: expect.any(String) });
    expect(sim.liveSessions()).toEqual([]);
  });

  it('without client_secret › answers 422 in the FastAPI shape', async () => {
    const sim = await useSimulator();

    const res = await createSession(sim, { conversation_engine: { type: 'openai-realtime' } });

    expect(res.status).toBe(422);
    expect(res.json).toEqual({
      detail: [
        { loc: ['body', 'conversation_engine', 'client_secret'], msg: 'Field required', type: 'missing' },
      ],
    });
  });

  it.each([
    ['max_duration below 60', { max_duration: 59 }, 'max_duration', 'greater_than_equal'],
    ['max_duration above 86400', { max_duration: 86401 }, 'max_duration', 'less_than_equal'],
    ['max_duration as a string', { max_duration: '900' }, 'max_duration', 'int_type'],
    ['user_absent_timeout below 10', { user_absent_timeout: 9 }, 'user_absent_timeout', 'greater_than_equal'],
    ['an unknown background', { background: 'blue' }, 'background', 'literal_error'],
    ['an unknown key', { voice: 'marin' }, 'voice', 'extra_forbidden'],
  ])('with %s › answers 422 locating the field and starts nothing', async (_name, extra, field, type) => {
    const sim = await useSimulator();

    const res = await createOpenAiSession(sim, extra);

    expect(res.created.status).toBe(422);
    expect(res.created.json).toEqual({ detail: [{ loc: ['body', field], msg: expect.any(String), type }] });
    expect(sim.liveSessions()).toEqual([]);
  });

  it('with an engine type it does not know › answers 422 union_tag_invalid', async () => {
    const sim = await useSimulator();

    const res = await createSession(sim, { conversation_engine: { type: 'elevenlabs', agent_id: 'x' } });

    expect(res.status).toBe(422);
    expect(res.json).toEqual({
      detail: [
        {
          loc: ['body', 'conversation_engine'],
          msg: expect.stringMatching(/'elevenlabs'.*'external'/),
          type: 'union_tag_invalid',
        },
      ],
    });
  });

  it('with a JSON array for a body › answers 422 about the body itself', async () => {
    const sim = await useSimulator();

    const res = await createSession(sim, []);

    expect(res.status).toBe(422);
    expect(res.json).toEqual({
      detail: [{ loc: ['body'], msg: expect.any(String), type: 'model_attributes_type' }],
    });
  });

  it('with a render preset other than delta or golf › answers 400', async () => {
    const sim = await useSimulator();

    const res = await createOpenAiSession(sim, { render_model: 'alpha' });

    expect(res.created.status).toBe(400);
    expect(res.created.json).toEqual({ detail: expect.stringMatching(/render model/) });
  });

  it('with a secret it never minted › answers 400', async () => {
    const sim = await useSimulator();

    const res = await createSession(sim, {
      conversation_engine: { type: 'openai-realtime', client_secret: 'ek_forged' },
    });

    expect(res.status).toBe(400);
    expect(res.json).toEqual({
      detail: 'conversation_engine.client_secret was not issued by the engine provider',
    });
    expect(sim.liveSessions()).toEqual([]);
  });

  it('with a Cartesia token given as an OpenAI secret › answers 400', async () => {
    const sim = await useSimulator();
    const { token } = (await mintCartesiaToken(sim)).json as { token: string };

    const res = await createSession(sim, {
      conversation_engine: { type: 'openai-realtime', client_secret: token },
    });

    expect(res.status).toBe(400);
  });

  it('with a secret past its expiry › answers 400', async () => {
    const clock = fakeClock();
    const sim = await useSimulator({ clock: clock.now });
    const secret = (
      (
        await mintSecret(sim, {
          expires_after: { anchor: 'created_at', seconds: 60 },
          session: { type: 'realtime', model: 'gpt-realtime-2.1' },
        })
      ).json as { value: string }
    ).value;
    clock.advance(60_000);

    const res = await createSession(sim, {
      conversation_engine: { type: 'openai-realtime', client_secret: secret },
    });

    expect(res.status).toBe(400);
    expect(res.json).toEqual({ detail: 'conversation_engine.client_secret has expired' });
  });

  it('with a Cartesia token minted without the agent grant › answers 400', async () => {
    const sim = await useSimulator();
    const { token } = (await mintCartesiaToken(sim, { grants: { tts: true, stt: true } })).json as {
      token: string;
    };

    const res = await createSession(sim, {
      conversation_engine: { type: 'cartesia', access_token: token, agent_id: 'agent_123' },
    });

    expect(res.status).toBe(400);
    expect(res.json).toEqual({ detail: 'conversation_engine.access_token lacks the agent grant' });
  });

  it('with a body that is not JSON › answers 400 with a detail', async () => {
    const sim = await useSimulator();

    const res = await createSession(sim, '{"max_duration": 900,');

    expect(res.status).toBe(400);
    expect(res.json).toEqual({ detail: expect.any(String) });
  });

  it('with a body over the size cap › answers 413 and records no body', async () => {
    const sim = await useSimulator({ maxBodyBytes: 1024 });

    const res = await createSession(sim, { avatar_id: 'x'.repeat(2048) });

    expect(res.status).toBe(413);
    expect(sim.ledger().calls).toMatchObject([{ status: 413, body: null }]);
  });
});

describe('avaturn terminate', () => {
  it('of a live session › answers 200 {} and marks it ended by delete', async () => {
    const clock = fakeClock();
    const sim = await useSimulator({ clock: clock.now });
    const { session } = await createOpenAiSession(sim);
    clock.advance(5_000);

    const res = await terminateSession(sim, session.session_id);

    expect(res.status).toBe(200);
    expect(res.json).toEqual({});
    expect(sim.liveSessions()).toEqual([]);
    expect(sim.ledger().sessions[0]).toMatchObject({
      state: 'ended',
      endedBy: 'delete',
      endedAt: clock.now(),
    });
    expect(sim.ledger().calls.at(-1)).toMatchObject({
      route: 'avaturn.terminate',
      method: 'DELETE',
      path: `/api/v1/sessions/${session.session_id}`,
      status: 200,
    });
  });

  it('of a session already terminated › answers 404', async () => {
    const sim = await useSimulator();
    const { session } = await createOpenAiSession(sim);
    await terminateSession(sim, session.session_id);

    const res = await terminateSession(sim, session.session_id);

    expect(res.status).toBe(404);
    expect(res.json).toEqual({ detail: expect.any(String) });
  });

  it('of an id it never issued › answers 404', async () => {
    const sim = await useSimulator();

    const res = await terminateSession(sim, 'no-such-session');

    expect(res.status).toBe(404);
  });

  it('with a wrong key › answers 401 and leaves the session live', async () => {
    const sim = await useSimulator();
    const { session } = await createOpenAiSession(sim);

    const res = await call(sim, `/api/v1/sessions/${session.session_id}`, {
      method: 'DELETE',
      headers: { authorization: 'Bearer wrong' },
    });

    expect(res.status).toBe(401);
    expect(sim.liveSessions()).toHaveLength(1);
  });
});

describe('avaturn session lifetime', () => {
  it('at max_duration › ends by itself, and a later terminate answers 404', async () => {
    const clock = fakeClock();
    const sim = await useSimulator({ clock: clock.now });
    const { session } = await createOpenAiSession(sim, { max_duration: 60 });
    const createdAt = clock.now();

    clock.advance(59_999);
    expect(sim.liveSessions()).toHaveLength(1);
    clock.advance(1);
    expect(sim.liveSessions()).toEqual([]);
    expect(sim.ledger().sessions[0]).toMatchObject({
      state: 'ended',
      endedBy: 'max-duration',
      endedAt: createdAt + 60_000,
    });
    expect((await terminateSession(sim, session.session_id)).status).toBe(404);
  });

  it('with a max_duration a budget clamped › ends by itself then, and GET /_sim/ledger says ended by max-duration', async () => {
    const clock = fakeClock();
    const sim = await useSimulator({ clock: clock.now });
    const { session } = await createOpenAiSession(sim, { max_duration: 90 });
    const createdAt = clock.now();

    clock.advance(89_000);
    const before = await call(sim, '/_sim/ledger', { method: 'GET' });
    expect((before.json as SimLedger).sessions).toEqual([expect.objectContaining({ state: 'live' })]);
    clock.advance(1_000);
    const after = await call(sim, '/_sim/ledger', { method: 'GET' });

    expect((after.json as SimLedger).sessions).toEqual([
      expect.objectContaining({
        sessionId: session.session_id,
        state: 'ended',
        endedBy: 'max-duration',
        createdAt,
        endedAt: createdAt + 90_000,
      }),
    ]);
  });

  it('without max_duration › lives for Avaturn’s default hour', async () => {
    const clock = fakeClock();
    const sim = await useSimulator({ clock: clock.now });
    const secret = await mintedSecret(sim);
    await createSession(sim, { conversation_engine: { type: 'openai-realtime', client_secret: secret } });

    clock.advance(3_599_999);
    expect(sim.liveSessions()).toHaveLength(1);
    clock.advance(1);
    expect(sim.liveSessions()).toEqual([]);
  });
});
