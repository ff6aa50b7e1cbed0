import { testProfiles } from '../fixtures/profiles';
import { expectProblem, type TestApp, useTestApp } from '../helpers/build-test-app';
import { agentProfile, externalCredentials, testSigningKey } from '../helpers/external-engine';

const staticAgentHeader = agentProfile.engine.headers['X-Agent-Key'];

/** Every value that must never reach a response it does not belong to, or any log line. */
function secretsOf(t: TestApp, bearers: string[]): string[] {
  const ledger = t.sim.ledger();
  return [
    t.env.AVATURN_API_KEY!,
    t.env.OPENAI_API_KEY!,
    t.env.CARTESIA_API_KEY!,
    t.env.AUTH_JWT_SECRET!,
    t.env.EXTERNAL_ENGINE_SIGNING_KEY!,
    staticAgentHeader,
    ...bearers.map((bearer) => bearer.replace(/^Bearer /, '')),
    ...ledger.credentials.map((credential) => credential.value),
    ...externalCredentials(ledger),
    ...ledger.sessions.map((session) => session.token),
  ];
}

describe('secrets', () => {
  const t = useTestApp({
    profiles: { ...testProfiles, agent: agentProfile },
    env: {
      UPSTREAM_TIMEOUT_MS: '300',
      MAX_SESSIONS_PER_USER: '2',
      EXTERNAL_ENGINE_SIGNING_KEY: testSigningKey,
    },
    // Keep every circuit closed so each fault path below really reaches its upstream.
    deps: { upstreamOptions: { circuit: { volumeThreshold: 1000 } } },
  });

  it('POST /session responses (body and headers) hold no API key, minted credential or prompt', async () => {
    for (const profile of ['default', 'support', 'agent']) {
      const res = await t.http
        .post('/session')
        .set('Authorization', await t.bearer(`user-${profile}`))
        .send({ profile });
      expect(res.status).toBe(201);
      const wire = JSON.stringify(res.headers) + res.text;
      const ledger = t.sim.ledger();
      for (const secret of [
        t.env.AVATURN_API_KEY!,
        t.env.OPENAI_API_KEY!,
        t.env.CARTESIA_API_KEY!,
        ...ledger.credentials.map((credential) => credential.value),
        ...externalCredentials(ledger),
        testSigningKey,
        staticAgentHeader,
        'You are a friendly guide.',
        'agent_123',
      ]) {
        expect(wire).not.toContain(secret);
      }
    }
  });

  it('no log line, on any path, contains the JWT, an API key, a minted credential or a session token', async () => {
    const alice = await t.bearer('alice');
    const bob = await t.bearer('bob');
    const expired = `Bearer ${(await t.bearer('eve', { exp: Math.floor(Date.now() / 1000) - 3600 })).slice(7)}`;

    const first = await t.http
      .post('/session')
      .set('Authorization', alice)
      .set('Idempotency-Key', 'key-1')
      .send({});
    await t.http.post('/session').set('Authorization', alice).set('Idempotency-Key', 'key-1').send({});
    await t.http
      .post('/session')
      .set('Authorization', alice)
      .set('Idempotency-Key', 'key-1')
      .send({ profile: 'support' });
    await t.http.post('/session').set('Authorization', bob).send({ profile: 'support' });
    await t.http.post('/session').set('Authorization', bob).send({ profile: 'agent' });
    await t.http.get('/sessions').set('Authorization', alice);
    await t.http.delete(`/session/${first.body.session_id}`).set('Authorization', bob);
    await t.http.delete(`/session/${first.body.session_id}`).set('Authorization', alice);
    await t.http.post('/session').set('Authorization', expired).send({});
    await t.http.post('/session').set('Authorization', alice).set('Content-Type', 'text/plain').send('x');
    await t.http.post('/session').set('Authorization', alice).send({ instructions: 'leak me' });
    const faulty = [
      ['openai.mint', 'default'],
      ['cartesia.mint', 'support'],
      ['avaturn.create', 'default'],
      ['avaturn.create', 'agent'],
    ] as const;
    for (const [route, profile] of faulty) {
      for (const fault of [{ status: 401 }, { status: 500, times: 0 }, { hang: true }]) {
        t.sim.clearFaults();
        t.sim.inject({ route, ...fault });
        await t.http
          .post('/session')
          .set('Authorization', await t.bearer(`u-${route}-${profile}`))
          .send({ profile });
      }
    }
    t.sim.clearFaults();
    t.sim.inject({ route: 'avaturn.create', status: 422, afterEffect: true });
    await t.http.post('/session').set('Authorization', bob).send({ profile: 'agent' });
    t.sim.clearFaults();
    t.sim.inject({ route: 'avaturn.create', status: 200, body: { session_id: 'half_made', token: 42 } });
    await t.http.post('/session').set('Authorization', alice).send({});
    t.sim.inject({ route: 'avaturn.terminate', status: 500, times: 0 });
    const doomed = await t.http
      .post('/session')
      .set('Authorization', await t.bearer('dora'))
      .send({});
    expect(doomed.status).toBe(201);
    expectProblem(
      await t.http.delete(`/session/${doomed.body.session_id}`).set('Authorization', await t.bearer('dora')),
      503,
      'upstream-unavailable',
    );
    await t.http.get('/readyz');
    await t.http.get('/metrics');
    await t.broker.terminations.settle();

    const logs = t.logs.text;
    expect(t.logs.lines().length).toBeGreaterThan(20);
    const secrets = secretsOf(t, [alice, bob, expired]);
    expect(secrets.length).toBeGreaterThan(8);
    expect(externalCredentials(t.sim.ledger())).toHaveLength(5);
    for (const secret of secrets) expect(logs).not.toContain(secret);
    expect(logs).not.toContain('leak me');
  });
});
