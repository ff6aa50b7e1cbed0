import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildTestApp, expectProblem, type TestApp } from '../helpers/build-test-app';
import { eventually, sleep } from '../helpers/waiting';

describe('POST /session with an Idempotency-Key', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await buildTestApp({ env: { MAX_SESSIONS_PER_USER: '5' } });
  });
  afterEach(async () => {
    await t.close();
  });

  const post = async (user: string, key: string | undefined, body: object = {}) => {
    const req = t.http.post('/session').set('Authorization', await t.bearer(user));
    if (key !== undefined) req.set('Idempotency-Key', key);
    return req.send(body);
  };

  it('replays the first answer to a repeat with the same body and creates nothing more', async () => {
    const first = await post('alice', 'k-1');
    const again = await post('alice', 'k-1', { profile: 'default' });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.headers['location']).toBe(first.headers['location']);
    expect(t.sim.ledger().sessions).toHaveLength(1);
    expect(t.sim.ledger().credentials).toHaveLength(1);
  });

  it('answers 422 idempotency-key-reused for the same key with another body', async () => {
    await post('alice', 'k-1');
    expectProblem(await post('alice', 'k-1', { profile: 'support' }), 422, 'idempotency-key-reused');
    expect(t.sim.ledger().sessions).toHaveLength(1);
  });

  it('answers 409 idempotency-in-progress while the first request still runs', async () => {
    t.sim.inject({ route: 'avaturn.create', latencyMs: 400 });
    const first = post('alice', 'k-1');
    await sleep(150);
    const second = await post('alice', 'k-1');
    expectProblem(second, 409, 'idempotency-in-progress');
    expect((await first).status).toBe(201);
    expect(t.sim.ledger().sessions).toHaveLength(1);
  });

  it('scopes keys to the user: another user with the same key gets a session of their own', async () => {
    const alice = await post('alice', 'shared');
    const bob = await post('bob', 'shared');
    expect(bob.status).toBe(201);
    expect(bob.body.session_id).not.toBe(alice.body.session_id);
    expect(t.sim.ledger().sessions).toHaveLength(2);
  });

  it('forgets the key when the attempt failed, so a retry creates the session', async () => {
    t.sim.inject({ route: 'avaturn.create', status: 422 });
    expectProblem(await post('alice', 'k-1'), 502, 'upstream-error');
    const retry = await post('alice', 'k-1');
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
  });

  it.each([
    ['empty', ''],
    ['too long', 'k'.repeat(256)],
    ['non-ASCII', 'clé'],
  ])('answers 400 invalid-request for a %s key, with no upstream call', async (_name, key) => {
    expectProblem(await post('alice', key), 400, 'invalid-request');
    expect(t.sim.ledger().calls).toHaveLength(0);
  });
});

describe('POST /session when the client disconnects before the answer', () => {
  let t: TestApp;
  let server: Server;
  let port: number;
  beforeEach(async () => {
    t = await buildTestApp();
    server = t.broker.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
    await t.close();
  });

  async function postAndHangUp(headers: Record<string, string>, afterMs: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const req = httpRequest({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/session',
        headers: { 'content-type': 'application/json', ...headers },
      });
      req.on('error', () => resolve());
      req.end('{}');
      setTimeout(() => {
        req.destroy();
        resolve();
      }, afterMs);
    });
  }

  it('without an Idempotency-Key: terminates the session it created and frees the slot', async () => {
    t.sim.inject({ route: 'avaturn.create', latencyMs: 300 });
    await postAndHangUp({ authorization: await t.bearer('alice') }, 100);
    await eventually(() => {
      expect(t.sim.ledger().sessions).toHaveLength(1);
      expect(t.sim.ledger().sessions[0]).toMatchObject({ state: 'ended', endedBy: 'delete' });
    });
    const list = await t.http.get('/sessions').set('Authorization', await t.bearer('alice'));
    expect(list.body.sessions).toEqual([]);
    expect((await t.http.post('/session').set('Authorization', await t.bearer('alice'))).status).toBe(201);
  });

  it('with an Idempotency-Key: keeps the session, and a retry with the key collects it', async () => {
    t.sim.inject({ route: 'avaturn.create', latencyMs: 300 });
    await postAndHangUp({ authorization: await t.bearer('alice'), 'idempotency-key': 'collect-me' }, 100);
    await eventually(() => expect(t.sim.liveSessions()).toHaveLength(1));
    await sleep(50);
    const retry = await t.http
      .post('/session')
      .set('Authorization', await t.bearer('alice'))
      .set('Idempotency-Key', 'collect-me')
      .send({});
    expect(retry.status).toBe(201);
    expect(retry.body.session_id).toBe(t.sim.liveSessions()[0]!.sessionId);
    expect(retry.body.token).toBe(t.sim.liveSessions()[0]!.token);
    expect(t.sim.ledger().sessions).toHaveLength(1);
  });

  it('without an Idempotency-Key, leaving while credentials are minted: creates nothing at all', async () => {
    t.sim.inject({ route: 'openai.mint', latencyMs: 300 });
    await postAndHangUp({ authorization: await t.bearer('alice') }, 100);
    await sleep(500);
    expect(t.sim.ledger().sessions).toHaveLength(0);
    expect((await t.http.post('/session').set('Authorization', await t.bearer('alice'))).status).toBe(201);
  });
});
