import { Agent, request } from 'node:http';
import { Redis } from 'ioredis';
import { createRedisStore } from '../../src/store/redis/redis-store';
import type { SessionStore } from '../../src/store/ports';
import { brokerEnvFor, startSimulator, type Simulator } from '../../src/simulator';
import { signToken, testJwtSecret } from '../fixtures/tokens';
import { eventually } from '../helpers/world';
import { startBrokerProcess, type BrokerProcess } from '../helpers/broker-process';

/** A Redis database of its own: the broker process uses its default key prefix. */
const redisUrl = `${(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379').replace(/\/\d*$/, '')}/13`;
const drainMs = 500;

/** A request through a keep-alive agent, as a browser sends it; resolves the status and Connection. */
function send(agent: Agent, url: string, method: string, user: string) {
  return signToken({ sub: user }).then(
    (token) =>
      new Promise<{ status: number; connection: string | undefined; body: string }>((done, fail) => {
        const req = request(
          url,
          {
            method,
            agent,
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          },
          (res) => {
            let body = '';
            res.on('data', (chunk) => (body += chunk));
            res.on('end', () =>
              done({ status: res.statusCode ?? 0, connection: res.headers.connection, body }),
            );
          },
        );
        req.on('error', fail);
        req.end(method === 'POST' ? '{}' : undefined);
      }),
  );
}

async function clearDatabase(): Promise<void> {
  const admin = new Redis(redisUrl);
  await admin.flushdb();
  await admin.quit();
}

describe('SIGTERM on Redis with keep-alive clients, a create in flight and a termination Avaturn will not confirm', () => {
  let sim: Simulator;
  let store: SessionStore;
  const running: BrokerProcess[] = [];
  beforeAll(async () => {
    await clearDatabase();
    sim = await startSimulator();
    store = createRedisStore({ url: redisUrl });
  });
  afterAll(async () => {
    for (const broker of running) broker.child.kill('SIGKILL');
    await store.close();
    await sim.close();
    await clearDatabase();
  });

  it('answers every request, exits 0 soon after the drain, leaves the termination queued, and the next process finishes it', async () => {
    const env = {
      ...brokerEnvFor(sim),
      AUTH_JWT_SECRET: testJwtSecret,
      REDIS_URL: redisUrl,
      SHUTDOWN_DRAIN_MS: String(drainMs),
      UPSTREAM_TIMEOUT_MS: '2000',
    };
    const first = await startBrokerProcess(env);
    running.push(first);
    const agent = new Agent({ keepAlive: true });

    const doomed = await send(agent, `${first.url}/session`, 'POST', 'alice');
    expect(doomed.status).toBe(201);
    const doomedId = (JSON.parse(doomed.body) as { session_id: string }).session_id;
    sim.inject({ route: 'avaturn.terminate', status: 500, times: 0 });
    expect((await send(agent, `${first.url}/session/${doomedId}`, 'DELETE', 'alice')).status).toBe(503);
    sim.clearFaults();
    sim.inject({ route: 'avaturn.terminate', hang: true, times: 0 });

    sim.inject({ route: 'avaturn.create', latencyMs: 400 });
    const inFlight = send(agent, `${first.url}/session`, 'POST', 'bob');
    await eventually(() =>
      expect(sim.ledger().calls.some((c) => c.route === 'avaturn.create' && c.status === null)).toBe(true),
    );
    const signalledAt = Date.now();
    first.child.kill('SIGTERM');

    const answered = await inFlight;
    expect(answered.status).toBe(201);
    expect(answered.connection).toBe('close');
    const { code, at } = await first.exited;
    expect(code).toBe(0);
    expect(at - signalledAt).toBeLessThan(drainMs + 3_000);
    agent.destroy();

    // Nothing live upstream that the registry or the queue does not hold.
    const live = sim
      .liveSessions()
      .map((s) => s.sessionId)
      .sort();
    const registered = (await store.listAll(100)).map((r) => r.sessionId).sort();
    expect(registered).toEqual(live);
    expect(live).toContain(doomedId);
    expect(await store.queueDepth()).toEqual({ terminate: 1, event: 0 });

    sim.clearFaults();
    const second = await startBrokerProcess(env);
    running.push(second);
    await eventually(async () => {
      expect(sim.ledger().sessions.find((s) => s.sessionId === doomedId)).toMatchObject({ state: 'ended' });
      expect(await store.queueDepth()).toEqual({ terminate: 0, event: 0 });
      expect((await store.listAll(100)).map((r) => r.sessionId)).not.toContain(doomedId);
    }, 10_000);
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
  }, 40_000);
});
