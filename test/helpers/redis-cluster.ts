import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster } from 'ioredis';
import type { RedisConnection } from '../../src/config/types';
import { freePort, noPersistence, spawnRedis, type RedisProcess } from './redis-server';
import { eventually } from './waiting';

/** A Redis Cluster of the test's own: three masters with one replica each, on free loopback ports. */
export interface RedisCluster {
  connection: RedisConnection & { mode: 'cluster' };
  env: Record<string, string>;
  /** Every node's address, for an ioredis `Cluster`. */
  nodes: { host: string; port: number }[];
  /** The node processes, masters and replicas. */
  processes: RedisProcess[];
  /** A cluster client for looking inside. */
  admin: Cluster;
  /** The node process serving `slot` as master, and one of its replicas. */
  shardOf(slot: number): Promise<{ master: RedisProcess; replica: RedisProcess }>;
  close(): Promise<void>;
}

const run = promisify(execFile);

/**
 * Six `redis-server --cluster-enabled yes` joined by `redis-cli --cluster create`. The node timeout
 * is short so that a killed master's replica takes over within a couple of seconds.
 */
export async function startRedisCluster({ nodeTimeoutMs = 1_000 } = {}): Promise<RedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'broker-cluster-'));
  const nodes: RedisProcess[] = [];
  try {
    for (let i = 0; i < 6; i++) {
      const port = await freePort();
      const busPort = await freePort();
      nodes.push(
        await spawnRedis(
          [
            ...noPersistence(port),
            '--cluster-enabled',
            'yes',
            '--cluster-port',
            String(busPort),
            '--cluster-config-file',
            join(dir, `nodes-${port}.conf`),
            '--cluster-node-timeout',
            String(nodeTimeoutMs),
            '--dir',
            dir,
          ],
          port,
        ),
      );
    }
    const addresses = nodes.map((node) => `127.0.0.1:${node.port}`);
    await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '1', '--cluster-yes']);
    await eventually(async () => {
      for (const node of nodes) {
        const info = (await node.admin.cluster('INFO')) as string;
        if (!info.includes('cluster_state:ok')) throw new Error('cluster not ok yet');
        const replication = await node.admin.info('replication');
        if (replication.includes('role:slave') && !replication.includes('master_link_status:up'))
          throw new Error('replica not in sync yet');
      }
      // Every master has its replica, so that any of them can fail over.
      const ranges = await nodes[0]!.admin.cluster('SLOTS');
      if (ranges.some((range) => range.length < 4)) throw new Error('a master without a replica yet');
    }, 15_000);
  } catch (err) {
    await Promise.all(nodes.map((node) => node.kill()));
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const seeds = nodes.slice(0, 3).map((node) => ({ host: '127.0.0.1', port: node.port }));
  const admin = new Cluster(seeds, { redisOptions: { connectTimeout: 1_000, disconnectTimeout: 100 } });
  admin.on('error', () => undefined);
  return {
    connection: { mode: 'cluster', nodes: seeds },
    env: { REDIS_CLUSTER_NODES: seeds.map((s) => `${s.host}:${s.port}`).join(',') },
    nodes: nodes.map((node) => ({ host: '127.0.0.1', port: node.port })),
    processes: nodes,
    admin,
    async shardOf(slot) {
      const byPort = new Map(nodes.map((node) => [node.port, node]));
      for (const node of nodes) {
        try {
          const ranges = await node.admin.cluster('SLOTS');
          const range = ranges.find(([from, to]) => from <= slot && slot <= to);
          const [, , master, replica] = range ?? [];
          const m = master && byPort.get(master[1]);
          const r = replica && byPort.get(replica[1]);
          if (m && r) return { master: m, replica: r };
        } catch {
          // A killed node: ask the next one.
        }
      }
      throw new Error(`no master with a replica serves slot ${slot}`);
    },
    async close() {
      admin.disconnect();
      await Promise.all(nodes.map((node) => node.kill()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
