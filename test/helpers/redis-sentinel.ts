import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RedisConnection } from '../../src/config/types';
import { freePort, noPersistence, spawnRedis, type RedisProcess } from './redis-server';
import { eventually } from './waiting';

/** A primary, a replica and three Sentinels of the test's own, on free loopback ports. */
export interface RedisSentinel {
  connection: RedisConnection & { mode: 'sentinel' };
  env: Record<string, string>;
  masterName: string;
  /** The data nodes, primary first (as started: after a failover the roles differ). */
  servers: RedisProcess[];
  sentinels: RedisProcess[];
  /** The data node the Sentinels currently name as master. */
  master(): Promise<RedisProcess>;
  close(): Promise<void>;
}

const masterName = 'broker-master';

/**
 * Sentinels that call the master down after `downAfterMs` and fail over within `failoverTimeoutMs`;
 * resolves once every Sentinel knows the replica and the two other Sentinels, so that a failover
 * can start at once.
 */
export async function startRedisSentinel({
  downAfterMs = 1_000,
  failoverTimeoutMs = 3_000,
} = {}): Promise<RedisSentinel> {
  const dir = await mkdtemp(join(tmpdir(), 'broker-sentinel-'));
  const started: RedisProcess[] = [];
  const servers: RedisProcess[] = [];
  const sentinels: RedisProcess[] = [];
  try {
    const primaryPort = await freePort();
    servers.push(await spawnRedis([...noPersistence(primaryPort), '--dir', dir], primaryPort));
    const replicaPort = await freePort();
    servers.push(
      await spawnRedis(
        [...noPersistence(replicaPort), '--dir', dir, '--replicaof', '127.0.0.1', String(primaryPort)],
        replicaPort,
      ),
    );
    started.push(...servers);
    await eventually(async () => {
      const info = await servers[1]!.admin.info('replication');
      if (!info.includes('master_link_status:up')) throw new Error('replica not in sync yet');
    });
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const file = join(dir, `sentinel-${port}.conf`);
      await writeFile(
        file,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor ${masterName} 127.0.0.1 ${primaryPort} 2`,
          `sentinel down-after-milliseconds ${masterName} ${downAfterMs}`,
          `sentinel failover-timeout ${masterName} ${failoverTimeoutMs}`,
          `sentinel parallel-syncs ${masterName} 1`,
          '',
        ].join('\n'),
      );
      sentinels.push(await spawnRedis([file, '--sentinel'], port));
    }
    started.push(...sentinels);
    await eventually(async () => {
      for (const sentinel of sentinels) {
        const replicas = (await sentinel.admin.call('SENTINEL', 'REPLICAS', masterName)) as unknown[];
        const peers = (await sentinel.admin.call('SENTINEL', 'SENTINELS', masterName)) as unknown[];
        if (replicas.length !== 1 || peers.length !== 2) throw new Error('Sentinels still discovering');
      }
    }, 20_000);
  } catch (err) {
    await Promise.all(started.map((p) => p.kill()));
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const addresses = sentinels.map((s) => ({ host: '127.0.0.1', port: s.port }));
  return {
    connection: { mode: 'sentinel', sentinels: addresses, masterName },
    env: {
      REDIS_SENTINELS: addresses.map((a) => `${a.host}:${a.port}`).join(','),
      REDIS_SENTINEL_MASTER: masterName,
    },
    masterName,
    servers,
    sentinels,
    async master() {
      for (const sentinel of sentinels) {
        try {
          const [, port] = (await sentinel.admin.call(
            'SENTINEL',
            'GET-MASTER-ADDR-BY-NAME',
            masterName,
          )) as string[];
          const server = servers.find((s) => s.port === Number(port));
          if (server) return server;
        } catch {
          // A Sentinel that is away: ask the next one.
        }
      }
      throw new Error('no Sentinel names a master');
    },
    async close() {
      await Promise.all([...sentinels, ...servers].map((p) => p.kill()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
