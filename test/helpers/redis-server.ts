import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

/** A Redis server of the test's own, on a free loopback port, with no persistence. */
export interface RedisServer {
  url: string;
  port: number;
  /** A client for setting the server up and looking inside it. */
  admin: Redis;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Starts Debian's `redis-server` with `args` added to a no-persistence configuration; on `port`
 * when given (a restart in place of a server the test killed), else on a free one.
 */
export async function startRedisServer(
  args: string[] = [],
  options: { port?: number } = {},
): Promise<RedisServer> {
  const port = options.port ?? (await freePort());
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...args],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const admin = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => 50 });
  const until = Date.now() + 10_000;
  for (;;) {
    try {
      await admin.connect();
      await admin.ping();
      break;
    } catch (err) {
      if (Date.now() > until) {
        child.kill('SIGKILL');
        throw err;
      }
      admin.disconnect();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    admin,
    async close() {
      admin.disconnect();
      child.kill('SIGKILL');
      await exited;
    },
  };
}
