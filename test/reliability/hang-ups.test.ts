import type { TestApp } from '../helpers/build-test-app';
import { postAndHangUp } from '../helpers/raw-socket';
import { listenOn, type Listening } from '../helpers/serve';
import {
  buildWorld,
  eventually,
  expectAccountedFor,
  sleep,
  everyStoreKind,
  type World,
} from '../helpers/world';
import { useRedisDeployment } from '../helpers/redis-deployment';

describe.each(everyStoreKind)('a client that hangs up before its answer (%s store)', (kind) => {
  useRedisDeployment(kind);
  let world: World;
  let t: TestApp;
  let broker: Listening;
  beforeEach(async () => {
    world = await buildWorld(kind, { env: { MAX_SESSIONS_PER_USER: '50' } });
    t = world.t;
    broker = await listenOn(t.broker.app);
  });
  afterEach(async () => {
    await broker.close();
    await world.dispose();
  });

  /** Resolves once the simulator has a call of `route` in hand. */
  const whileCalling = (route: 'openai.mint' | 'avaturn.create') => () =>
    eventually(() => {
      expect(t.sim.ledger().calls.some((call) => call.route === route)).toBe(true);
    });

  const create = async (user: string) =>
    t.http
      .post('/session')
      .set('Authorization', await t.bearer(user))
      .send({});

  it('in its first milliseconds (limiter, auth, body), without an Idempotency-Key: 30 of 30 leave nothing running', async () => {
    // Minting takes 20 ms, so every hang-up (0-3 ms after sending) comes before the answer.
    t.sim.inject({ route: 'openai.mint', latencyMs: 20, times: 0 });
    for (let i = 0; i < 30; i++) await postAndHangUp(broker.port, await t.bearer(`user${i}`), i % 4);
    await sleep(300);
    await expectAccountedFor(t, 50);
    expect(t.sim.liveSessions()).toEqual([]);
  });

  it('while credentials are minted, without an Idempotency-Key: creates nothing at all', async () => {
    t.sim.inject({ route: 'openai.mint', latencyMs: 300 });
    await postAndHangUp(broker.port, await t.bearer('alice'), whileCalling('openai.mint'));
    await sleep(500);
    expect(t.sim.ledger().sessions).toHaveLength(0);
    await expectAccountedFor(t, 50);
    expect((await create('alice')).status).toBe(201);
  });

  it('while Avaturn creates the session, without an Idempotency-Key: it is ended and unlisted, and the user can create again', async () => {
    t.sim.inject({ route: 'avaturn.create', latencyMs: 150 });
    await postAndHangUp(broker.port, await t.bearer('alice'), whileCalling('avaturn.create'));
    await sleep(300);
    await expectAccountedFor(t, 50);
    expect(t.sim.ledger().sessions).toEqual([expect.objectContaining({ state: 'ended', endedBy: 'delete' })]);
    const list = await t.http.get('/sessions').set('Authorization', await t.bearer('alice'));
    expect(list.body.sessions).toEqual([]);
    expect((await create('alice')).status).toBe(201);
  });

  it('while Avaturn creates the session, with an Idempotency-Key: the session is kept for the retry to collect', async () => {
    t.sim.inject({ route: 'avaturn.create', latencyMs: 150 });
    await postAndHangUp(broker.port, await t.bearer('alice'), whileCalling('avaturn.create'), 'collect-me');
    await sleep(300);
    const retry = await t.http
      .post('/session')
      .set('Authorization', await t.bearer('alice'))
      .set('Idempotency-Key', 'collect-me')
      .send({});
    expect(retry.status).toBe(201);
    expect(t.sim.liveSessions().map((s) => s.sessionId)).toEqual([retry.body.session_id]);
    expect(retry.body.token).toBe(t.sim.liveSessions()[0]!.token);
    expect(t.sim.ledger().sessions).toHaveLength(1);
    await expectAccountedFor(t, 50);
  });
});
