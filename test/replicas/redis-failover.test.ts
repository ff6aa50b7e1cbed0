import { randomUUID } from 'node:crypto';
import { createRedisStore } from '../../src/store/redis/redis-store';
import { startSimulator, type Simulator } from '../../src/simulator';
import { buildTestApp, expectProblem, type TestApp } from '../helpers/build-test-app';
import {
  redisDeployment,
  type RedisDeployment,
  type RedisMode,
  useRedisDeployment,
} from '../helpers/redis-deployment';
import type { RedisProcess } from '../helpers/redis-server';
import { eventually, expectAccountedFor, sleep } from '../helpers/world';

const env = { RATE_LIMIT_PER_MINUTE: '100000', RATE_LIMIT_IP_PER_MINUTE: '100000' };
const createsPerSecond = 50;

/** Two brokers, as two replicas: one simulator, one key prefix on the deployment. */
async function twoBrokers(
  deployment: RedisDeployment,
  sim: Simulator,
  keyPrefix: string,
): Promise<[TestApp, TestApp]> {
  const broker = () =>
    buildTestApp({
      simulator: sim,
      env: { ...deployment.env, ...env },
      deps: { store: createRedisStore({ connection: deployment.connection, keyPrefix }) },
    });
  return [await broker(), await broker()];
}

async function create(t: TestApp, user: string) {
  return t.http
    .post('/session')
    .set('Authorization', await t.bearer(user))
    .send({});
}

/**
 * Creates for fresh users at `createsPerSecond`, alternating between the brokers, until stopped;
 * every answer is kept.
 */
function startLoad(brokers: TestApp[]) {
  const answers: Promise<{ status: number; body: { code?: string } }>[] = [];
  let running = true;
  const loop = (async () => {
    for (let i = 0; running; i++) {
      answers.push(create(brokers[i % brokers.length]!, `user-${i}`));
      await sleep(1000 / createsPerSecond);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return Promise.all(answers);
    },
  };
}

/**
 * SIGKILLs a master once its replica holds every write it acknowledged: writes are paused and the
 * replica's offset awaited first, so that the test is about following the failover, not about the
 * writes an asynchronous replica can lose (which the store's data-loss handling covers).
 */
async function killInSync(master: RedisProcess, replica: RedisProcess): Promise<void> {
  await master.admin.call('CLIENT', 'PAUSE', '10000', 'WRITE');
  await eventually(async () => {
    const offset = (info: string, field: string) => Number(new RegExp(`${field}:(\\d+)`).exec(info)?.[1]);
    const masterOffset = offset(await master.admin.info('replication'), 'master_repl_offset');
    const replicaOffset = offset(await replica.admin.info('replication'), 'slave_repl_offset');
    expect(replicaOffset).toBe(masterOffset);
  });
  await master.kill();
}

/** What a failover under load must leave: answers 201 or a clean 503, registry and upstream agreeing. */
async function failOverUnderLoad(brokers: [TestApp, TestApp], failOver: () => Promise<void>): Promise<void> {
  for (const t of brokers) expect((await create(t, `warm-up-${randomUUID()}`)).status).toBe(201);
  const load = startLoad(brokers);
  await sleep(1_000);
  await failOver();
  // Recovery without a restart: both brokers create again by themselves.
  for (const t of brokers) {
    await eventually(async () => {
      expect((await t.http.get('/readyz')).status).toBe(200);
      expect((await create(t, `after-${randomUUID()}`)).status).toBe(201);
    }, 20_000);
  }
  await sleep(500);
  const answers = await load.stop();

  const refused = answers.filter((res) => res.status !== 201);
  for (const res of refused) expectProblem(res as Parameters<typeof expectProblem>[0], 503, 'not-ready');
  expect(answers.length - refused.length).toBeGreaterThan(createsPerSecond);
  await brokers[1].broker.terminations.settle();
  await brokers[1].broker.worker.drain();
  await expectAccountedFor(brokers[0], 1);
}

/** Kills the master the brokers use, once its replica holds every write, and waits for the promotion. */
const failovers: [string, RedisMode, (deployment: RedisDeployment, keyPrefix: string) => Promise<void>][] = [
  [
    'a Sentinel failover',
    'redis-sentinel',
    async ({ sentinel }) => {
      const master = await sentinel!.master();
      const replica = sentinel!.servers.find((s) => s !== master)!;
      await killInSync(master, replica);
      await eventually(async () => expect(await sentinel!.master()).toBe(replica), 20_000);
    },
  ],
  [
    'a Cluster failover of the master of the broker’s slot',
    'redis-cluster',
    async (deployment, keyPrefix) => {
      const [key] = await deployment.keys(keyPrefix);
      const slot = (await deployment.cluster!.admin.cluster('KEYSLOT', key!)) as number;
      const { master, replica } = await deployment.cluster!.shardOf(slot);
      await killInSync(master, replica);
      await eventually(async () => {
        const [role] = (await replica.admin.call('ROLE')) as [string];
        expect(role).toBe('master');
      }, 20_000);
    },
  ],
];

describe.each(failovers)('%s under 50 creates/s from two brokers', (_name, mode, failOver) => {
  useRedisDeployment(mode);
  let sim: Simulator;
  let brokers: [TestApp, TestApp] | undefined;
  afterEach(async () => {
    await Promise.all((brokers ?? []).map((t) => t.close()));
    await sim.close();
  });

  it('costs only clean 503 not-ready answers, leaves no orphan or ghost, and both brokers recover by themselves', async () => {
    const deployment = await redisDeployment(mode);
    const keyPrefix = `test-failover:${randomUUID()}:`;
    sim = await startSimulator();
    brokers = await twoBrokers(deployment, sim, keyPrefix);
    await failOverUnderLoad(brokers, () => failOver(deployment, keyPrefix));
  }, 90_000);
});
