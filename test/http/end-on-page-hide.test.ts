import { signToken } from '../fixtures/tokens';
import { expectProblem, useTestApp } from '../helpers/build-test-app';

const appOrigin = 'https://app.example';

describe('POST /session/:id/end (what a closing page sends)', () => {
  const t = useTestApp({ env: { CORS_ORIGINS: appOrigin } });

  async function createFor(user: string): Promise<string> {
    const res = await t.http.post('/session').set('Authorization', await t.bearer(user));
    expect(res.status).toBe(201);
    return res.body.session_id as string;
  }

  function end(sessionId: string, body: string, contentType = 'text/plain;charset=UTF-8') {
    return t.http.post(`/session/${sessionId}/end`).set('Content-Type', contentType).send(body);
  }

  it('ends the caller’s session with the token as a text/plain body, a request no preflight precedes', async () => {
    const sessionId = await createFor('alice');
    const res = await end(sessionId, await signToken({ sub: 'alice' })).set('Origin', appOrigin);
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(appOrigin);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(t.sim.ledger().sessions[0]).toMatchObject({ sessionId, state: 'ended', endedBy: 'delete' });
    expectProblem(await end(sessionId, await signToken({ sub: 'alice' })), 404, 'not-found');
  });

  it('answers another user’s session like an unknown one (404), with no upstream call', async () => {
    const sessionId = await createFor('alice');
    const mallory = await signToken({ sub: 'mallory' });
    const foreign = await end(sessionId, mallory);
    const unknown = await end('doesnotexist123', mallory);
    expectProblem(foreign, 404, 'not-found');
    expectProblem(unknown, 404, 'not-found');
    expect(t.sim.ledger().calls.filter((call) => call.route === 'avaturn.terminate')).toHaveLength(0);
    expect(t.sim.liveSessions()).toHaveLength(1);
  });

  it.each([
    ['no body', '', 'text/plain'],
    ['a token that does not verify', 'a.b.c', 'text/plain'],
    ['the token as JSON rather than text', JSON.stringify('x'), 'application/json'],
  ])('answers 401 for %s, leaving the session alone', async (_case, body, contentType) => {
    const sessionId = await createFor('alice');
    const res = await end(sessionId, body, contentType);
    expectProblem(res, 401, 'unauthenticated');
    expect(t.sim.liveSessions()).toHaveLength(1);
  });

  it('answers 401 for a token sent only in the Authorization header: this route reads the body', async () => {
    const sessionId = await createFor('alice');
    const res = await t.http.post(`/session/${sessionId}/end`).set('Authorization', await t.bearer('alice'));
    expectProblem(res, 401, 'unauthenticated');
  });

  it('answers 413 for a body far larger than any token', async () => {
    const sessionId = await createFor('alice');
    expectProblem(await end(sessionId, 'x'.repeat(20_000)), 413, 'payload-too-large');
  });
});
