import { buildTestApp, expectProblem, useTestApp } from '../helpers/build-test-app';

describe('POST /session and DELETE /session/:id', () => {
  const t = useTestApp();

  describe('with the OpenAI engine (profile "default")', () => {
    it('mints a client secret with the profile settings, binds an Avaturn session to it and returns only id, token and expiry', async () => {
      const before = Date.now();
      const res = await t.http
        .post('/session')
        .set('Authorization', await t.bearer('alice'))
        .send({});
      expect(res.status).toBe(201);
      expect(Object.keys(res.body).sort()).toEqual(['expires_at', 'session_id', 'token']);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['location']).toBe(`/session/${res.body.session_id}`);
      const expiresAt = Date.parse(res.body.expires_at);
      expect(expiresAt).toBeGreaterThanOrEqual(before + 900_000);
      expect(expiresAt).toBeLessThanOrEqual(Date.now() + 900_000);

      const ledger = t.sim.ledger();
      expect(ledger.credentials).toHaveLength(1);
      const credential = ledger.credentials[0]!;
      expect(credential.kind).toBe('openai-client-secret');
      expect(credential.request).toEqual({
        expires_after: { anchor: 'created_at', seconds: 600 },
        session: {
          type: 'realtime',
          model: 'gpt-realtime-2.1',
          instructions: 'You are a friendly guide.',
          audio: {
            input: { transcription: { model: 'gpt-4o-mini-transcribe' } },
            output: { voice: 'marin' },
          },
        },
      });
      const session = ledger.sessions[0]!;
      expect(session.sessionId).toBe(res.body.session_id);
      expect(session.token).toBe(res.body.token);
      expect(session.state).toBe('live');
      expect(session.request).toEqual({
        avatar_id: 'jane_20240829',
        background: 'transparent',
        conversation_engine: { type: 'openai-realtime', client_secret: credential.value },
        max_duration: 900,
        user_absent_timeout: 60,
      });
      expect(credential.usedBy).toEqual([res.body.session_id]);
    });

    it('terminates the session upstream on DELETE and forgets it', async () => {
      const auth = await t.bearer('alice');
      const created = await t.http.post('/session').set('Authorization', auth);
      const res = await t.http.delete(`/session/${created.body.session_id}`).set('Authorization', auth);
      expect(res.status).toBe(204);
      expect(t.sim.ledger().sessions[0]).toMatchObject({ state: 'ended', endedBy: 'delete' });
      const list = await t.http.get('/sessions').set('Authorization', auth);
      expect(list.body).toEqual({ sessions: [] });
      expectProblem(
        await t.http.delete(`/session/${created.body.session_id}`).set('Authorization', auth),
        404,
        'not-found',
      );
    });
  });

  describe('with the Cartesia engine (profile "support")', () => {
    it('mints an agent access token and creates a Cartesia-engine session with the profile defaults', async () => {
      const res = await t.http
        .post('/session')
        .set('Authorization', await t.bearer('bob'))
        .send({ profile: 'support' });
      expect(res.status).toBe(201);
      expect(Object.keys(res.body).sort()).toEqual(['expires_at', 'session_id', 'token']);
      const ledger = t.sim.ledger();
      const credential = ledger.credentials[0]!;
      expect(credential.kind).toBe('cartesia-access-token');
      expect(credential.request).toEqual({ grants: { agent: true }, expires_in: 300 });
      const mintCall = ledger.calls.find((call) => call.route === 'cartesia.mint');
      expect(mintCall?.status).toBe(200);
      expect(ledger.sessions[0]!.request).toEqual({
        conversation_engine: { type: 'cartesia', access_token: credential.value, agent_id: 'agent_123' },
        max_duration: 900,
        user_absent_timeout: 60,
      });

      const auth = await t.bearer('bob');
      const del = await t.http.delete(`/session/${res.body.session_id}`).set('Authorization', auth);
      expect(del.status).toBe(204);
      expect(t.sim.liveSessions()).toHaveLength(0);
    });
  });

  it('lists only the caller’s own sessions, newest first', async () => {
    const t2 = await buildTestApp({ env: { MAX_SESSIONS_PER_USER: '3' } });
    try {
      const alice = await t2.bearer('alice');
      const first = await t2.http.post('/session').set('Authorization', alice);
      const second = await t2.http.post('/session').set('Authorization', alice).send({ profile: 'support' });
      await t2.http.post('/session').set('Authorization', await t2.bearer('bob'));
      const res = await t2.http.get('/sessions').set('Authorization', alice);
      expect(res.status).toBe(200);
      expect(res.body.sessions.map((s: { session_id: string }) => s.session_id)).toEqual([
        second.body.session_id,
        first.body.session_id,
      ]);
      expect(res.body.sessions[0]).toEqual({
        session_id: second.body.session_id,
        profile: 'support',
        created_at: expect.any(String),
        expires_at: second.body.expires_at,
      });
    } finally {
      await t2.close();
    }
  });

  it('answers 400 unknown-profile for a profile nobody configured, with no upstream call', async () => {
    const res = await t.http
      .post('/session')
      .set('Authorization', await t.bearer('alice'))
      .send({ profile: 'nope' });
    expectProblem(res, 400, 'unknown-profile');
    expect(t.sim.ledger().calls).toHaveLength(0);
  });

  it('answers 404 for another user’s session exactly like a random id, and sends no upstream DELETE', async () => {
    const created = await t.http.post('/session').set('Authorization', await t.bearer('alice'));
    const mallory = await t.bearer('mallory');
    const foreign = await t.http.delete(`/session/${created.body.session_id}`).set('Authorization', mallory);
    const random = await t.http.delete('/session/doesnotexist123').set('Authorization', mallory);
    expectProblem(foreign, 404, 'not-found');
    expectProblem(random, 404, 'not-found');
    const strip = (body: Record<string, unknown>) => ({ ...body, request_id: undefined });
    expect(strip(foreign.body)).toEqual(strip(random.body));
    expect(t.sim.ledger().calls.filter((call) => call.route === 'avaturn.terminate')).toHaveLength(0);
    expect(t.sim.liveSessions()).toHaveLength(1);
  });

  it.each(['..%2F..%2Fetc', 'a'.repeat(129), 'has.dot', '%20'])(
    'answers 404 for the malformed id %s',
    async (id) => {
      const res = await t.http.delete(`/session/${id}`).set('Authorization', await t.bearer('alice'));
      expectProblem(res, 404, 'not-found');
      expect(t.sim.ledger().calls).toHaveLength(0);
    },
  );

  it('answers DELETE with 204 when Avaturn says the session had already ended (404)', async () => {
    const auth = await t.bearer('alice');
    const created = await t.http.post('/session').set('Authorization', auth);
    t.sim.inject({ route: 'avaturn.terminate', status: 404 });
    const res = await t.http.delete(`/session/${created.body.session_id}`).set('Authorization', auth);
    expect(res.status).toBe(204);
    expect((await t.http.get('/sessions').set('Authorization', auth)).body.sessions).toEqual([]);
  });
});
