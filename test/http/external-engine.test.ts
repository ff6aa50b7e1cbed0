import { decodeJwt, jwtVerify } from 'jose';
import { testProfiles } from '../fixtures/profiles';
import { expectProblem, useTestApp } from '../helpers/build-test-app';
import { agentProfile, agentUrl, externalCredentials, testSigningKey } from '../helpers/external-engine';

describe('POST /session with an external engine profile', () => {
  const t = useTestApp({
    profiles: { ...testProfiles, agent: agentProfile },
    env: { EXTERNAL_ENGINE_SIGNING_KEY: testSigningKey, MAX_SESSIONS_PER_USER: '2' },
  });

  it('binds the Avaturn session to the agent with its URL, sample rate, static headers and a fresh credential', async () => {
    const res = await t.http
      .post('/session')
      .set('Authorization', await t.bearer('alice'))
      .send({ profile: 'agent' });

    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(['expires_at', 'session_id', 'token']);
    const ledger = t.sim.ledger();
    expect(ledger.credentials).toEqual([]);
    expect(ledger.calls.map((call) => call.route)).toEqual(['avaturn.create']);
    expect(ledger.sessions).toHaveLength(1);
    expect(ledger.sessions[0]!.sessionId).toBe(res.body.session_id);
    expect(ledger.sessions[0]!.request).toEqual({
      conversation_engine: {
        type: 'external',
        url: agentUrl,
        audio: { user: { sample_rate: 16000 } },
        headers: {
          'X-Tenant': 'acme',
          'X-Agent-Key': 'static-agent-key-SECRET',
          Authorization: expect.stringMatching(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/),
        },
      },
      max_duration: 900,
      user_absent_timeout: 60,
    });
  });

  it('signs a credential the agent can verify with the key, naming user, profile and a unique id, for 2 minutes', async () => {
    const before = Math.floor(Date.now() / 1000);
    for (const user of ['alice', 'alice', 'bob']) {
      const res = await t.http
        .post('/session')
        .set('Authorization', await t.bearer(user))
        .send({ profile: 'agent' });
      expect(res.status).toBe(201);
    }
    const after = Math.floor(Date.now() / 1000);

    const credentials = externalCredentials(t.sim.ledger());
    expect(credentials).toHaveLength(3);
    const payloads = await Promise.all(
      credentials.map(async (credential) => {
        const { payload, protectedHeader } = await jwtVerify(
          credential,
          new TextEncoder().encode(testSigningKey),
          { algorithms: ['HS256'], issuer: 'avaturn-broker', audience: agentUrl, requiredClaims: ['jti'] },
        );
        expect(protectedHeader).toEqual({ alg: 'HS256', typ: 'JWT' });
        return payload;
      }),
    );
    expect(payloads.map((p) => [p.sub, p.profile])).toEqual([
      ['alice', 'agent'],
      ['alice', 'agent'],
      ['bob', 'agent'],
    ]);
    for (const payload of payloads) {
      expect(Object.keys(payload).sort()).toEqual(['aud', 'exp', 'iat', 'iss', 'jti', 'profile', 'sub']);
      expect(payload.iat).toBeGreaterThanOrEqual(before);
      expect(payload.iat).toBeLessThanOrEqual(after);
      expect(payload.exp! - payload.iat!).toBe(120);
    }
    expect(new Set(payloads.map((p) => p.jti)).size).toBe(3);
  });

  it('mints a credential that no other key verifies', async () => {
    await t.http
      .post('/session')
      .set('Authorization', await t.bearer('alice'))
      .send({ profile: 'agent' });
    const [credential] = externalCredentials(t.sim.ledger());
    expect(decodeJwt(credential!).sub).toBe('alice');
    await expect(
      jwtVerify(credential!, new TextEncoder().encode(`${testSigningKey}-other`), { algorithms: ['HS256'] }),
    ).rejects.toThrow();
  });

  it('leaves the other engines as they were: the OpenAI profile mints a client secret, with no external credential', async () => {
    const res = await t.http
      .post('/session')
      .set('Authorization', await t.bearer('alice'))
      .send({});
    expect(res.status).toBe(201);
    expect(externalCredentials(t.sim.ledger())).toEqual([]);
    expect(t.sim.ledger().credentials.map((c) => c.kind)).toEqual(['openai-client-secret']);
  });

  it('ends an external session on DELETE like any other', async () => {
    const auth = await t.bearer('alice');
    const created = await t.http.post('/session').set('Authorization', auth).send({ profile: 'agent' });
    const res = await t.http.delete(`/session/${created.body.session_id}`).set('Authorization', auth);
    expect(res.status).toBe(204);
    expect(t.sim.liveSessions()).toEqual([]);
  });

  it('answers 502 when Avaturn refuses the engine (422), creating nothing', async () => {
    t.sim.inject({ route: 'avaturn.create', status: 422 });
    const res = await t.http
      .post('/session')
      .set('Authorization', await t.bearer('alice'))
      .send({ profile: 'agent' });
    expectProblem(res, 502, 'upstream-error');
    expect(t.sim.liveSessions()).toEqual([]);
  });
});
