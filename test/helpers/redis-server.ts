import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis, type RedisOptions } from 'ioredis';

/** A Redis server of the test's own, on a free loopback port, with no persistence. */
export interface RedisServer {
  url: string;
  port: number;
  /** A client for setting the server up and looking inside it. */
  admin: Redis;
  close(): Promise<void>;
}

/** One `redis-server` process (a data node or a Sentinel) and a client to it. */
export interface RedisProcess {
  port: number;
  admin: Redis;
  /** Sends the signal (SIGKILL by default) and waits for the process to end. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Starts Debian's `redis-server` with `args` and waits until `admin` (connected with
 * `adminOptions` to `port`) answers PING.
 */
export async function spawnRedis(
  args: string[],
  port: number,
  adminOptions: RedisOptions = {},
): Promise<RedisProcess> {
  const child: ChildProcess = spawn('redis-server', args, { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const admin = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    retryStrategy: () => 50,
    // The default 2 s wait for a half-closed socket would outlive the test.
    disconnectTimeout: 100,
    ...adminOptions,
  });
  admin.on('error', () => undefined);
  const until = Date.now() + 10_000;
  for (;;) {
    try {
      await admin.connect();
      await admin.ping();
      break;
    } catch (err) {
      if (Date.now() > until || child.exitCode !== null) {
        child.kill('SIGKILL');
        throw err;
      }
      admin.disconnect();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return {
    port,
    admin,
    async kill(signal = 'SIGKILL') {
      admin.disconnect();
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** The no-persistence settings every test server starts with. */
export function noPersistence(port: number): string[] {
  return ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
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
  const server = await spawnRedis([...noPersistence(port), ...args], port);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    admin: server.admin,
    close: () => server.kill(),
  };
}
