import net from 'node:net';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestApp } from '../helpers/build-test-app';
import { buildWorld, eventually, expectAccountedFor, sleep, storeKinds, type World } from '../helpers/world';

/**
 * Sends a whole POST /session and hangs up without reading a byte of the answer: `afterMs` later,
 * or once `when` resolves.
 */
async function postAndHangUp(
  port: number,
  bearer: string,
  when: number | (() => Promise<void>),
  key?: string,
): Promise<void> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  await new Promise((resolve) => socket.once('connect', resolve));
  const body = '{}';
  socket.write(
    [
      'POST /session HTTP/1.1',
      'Host: 127.0.0.1',
      `Authorization: ${bearer}`,
      'Content-Type: application/json',
      `Content-Length: ${body.length}`,
      ...(key === undefined ? [] : [`Idempotency-Key: ${key}`]),
      '',
      body,
    ].join('\r\n'),
  );
  if (typeof when === 'function') await when();
  else if (when > 0) await sleep(when);
  socket.destroy();
}

describe.each(storeKinds)('a client that hangs up before its answer (%s store)', (kind) => {
  let world: World;
  let t: TestApp;
  let server: Server;
  let port: number;
  beforeEach(async () => {
    world = await buildWorld(kind, { env: { MAX_SESSIONS_PER_USER: '50' } });
    t = world.t;
    server = t.broker.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
    await world.dispose();
  });

  /** Resolves once Avaturn has the create call in hand (it answers 150 ms later). */
  const whileAvaturnCreates = () =>
    eventually(() => {
      expect(t.sim.ledger().calls.some((call) => call.route === 'avaturn.create')).toBe(true);
    });

  it('in its first milliseconds (limiter, auth, body), without an Idempotency-Key: 30 of 30 leave nothing running', async () => {
    // Minting takes 20 ms, so every hang-up (0-3 ms after sending) comes before the answer.
    t.sim.inject({ route: 'openai.mint', latencyMs: 20, times: 0 });
    for (let i = 0; i < 30; i++) await postAndHangUp(port, await t.bearer(`user${i}`), i % 4);
    await sleep(300);
    await expectAccountedFor(t, 50);
    expect(t.sim.liveSessions()).toEqual([]);
  });

  it('while Avaturn creates the session, without an Idempotency-Key: it is ended and unlisted', async () => {
    t.sim.inject({ route: 'avaturn.create', latencyMs: 150 });
    await postAndHangUp(port, await t.bearer('alice'), whileAvaturnCreates);
    await sleep(300);
    await expectAccountedFor(t, 50);
    expect(t.sim.ledger().sessions).toEqual([expect.objectContaining({ state: 'ended', endedBy: 'delete' })]);
  });

  it('with an Idempotency-Key: the session is kept for the retry to collect', async () => {
    t.sim.inject({ route: 'avaturn.create', latencyMs: 150 });
    await postAndHangUp(port, await t.bearer('alice'), whileAvaturnCreates, 'collect-me');
    await sleep(300);
    const retry = await t.http
      .post('/session')
      .set('Authorization', await t.bearer('alice'))
      .set('Idempotency-Key', 'collect-me')
      .send({});
    expect(retry.status).toBe(201);
    expect(t.sim.liveSessions().map((s) => s.sessionId)).toEqual([retry.body.session_id]);
    await expectAccountedFor(t, 50);
  });
});
