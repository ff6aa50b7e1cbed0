import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { execFile } from 'node:child_process';
import { Redis } from 'ioredis';

/** A Redis Cluster of the test's own: three primaries on loopback, no replicas, no persistence. */
export interface RedisCluster {
  /** The primaries' addresses, for an ioredis `Cluster`. */
  nodes: { host: string; port: number }[];
  close(): Promise<void>;
}

/** The ports a cluster may use (each also needs port + 10000 for its cluster bus). */
const clusterPorts = [7101, 7102, 7103, 7104, 7105, 7106];

async function isFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function freeClusterPorts(count: number): Promise<number[]> {
  const free: number[] = [];
  for (const port of clusterPorts) {
    if (free.length === count) break;
    if ((await isFree(port)) && (await isFree(port + 10_000))) free.push(port);
  }
  if (free.length < count) throw new Error(`fewer than ${count} free ports among ${clusterPorts.join(', ')}`);
  return free;
}

async function untilUp(port: number, check: (client: Redis) => Promise<boolean>): Promise<void> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => 50 });
  const until = Date.now() + 15_000;
  try {
    for (;;) {
      try {
        if (client.status !== 'ready') await client.connect();
        if (await check(client)) return;
      } catch (err) {
        if (Date.now() > until) throw err;
      }
      if (Date.now() > until) throw new Error(`Redis on ${port} did not come up`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    await client.quit().catch(() => client.disconnect());
  }
}

/** Starts three `redis-server --cluster-enabled yes` and joins them with `redis-cli --cluster create`. */
export async function startRedisCluster(): Promise<RedisCluster> {
  const ports = await freeClusterPorts(3);
  const dir = await mkdtemp(join(tmpdir(), 'redis-cluster-'));
  const children: ChildProcess[] = ports.map((port) =>
    spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${port}.conf`,
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'no',
      ],
      { stdio: 'ignore' },
    ),
  );
  const exits = children.map((child) => new Promise<void>((resolve) => child.once('exit', () => resolve())));
  const close = async () => {
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(exits);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await Promise.all(ports.map((port) => untilUp(port, async (client) => (await client.ping()) === 'PONG')));
    await promisify(execFile)('redis-cli', [
      '--cluster',
      'create',
      ...ports.map((port) => `127.0.0.1:${port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    await Promise.all(
      ports.map((port) =>
        untilUp(port, async (client) => String(await client.cluster('INFO')).includes('cluster_state:ok')),
      ),
    );
  } catch (err) {
    await close();
    throw err;
  }
  return { nodes: ports.map((port) => ({ host: '127.0.0.1', port })), close };
}
