import { expectProblem, type TestApp } from '../helpers/build-test-app';
import { sleep } from '../helpers/waiting';
import { buildWorld, storeKinds, type World } from '../helpers/world';

describe.each(storeKinds)('POST /session with an Idempotency-Key (%s store)', (kind) => {
  let world: World;
  let t: TestApp;
  beforeEach(async () => {
    world = await buildWorld(kind, { env: { MAX_SESSIONS_PER_USER: '5' } });
    t = world.t;
  });
  afterEach(() => world.dispose());

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
