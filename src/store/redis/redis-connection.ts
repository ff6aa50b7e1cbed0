import type { ConnectionOptions } from 'node:tls';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { RedisConnection } from '../../config/types';

const connectTimeoutMs = 1_000;
const commandTimeoutMs = 1_000;
const maxReconnectDelayMs = 2_000;

/** A single server (standalone or found through Sentinel) or a Cluster: the commands the store sends. */
export type RedisClient = Redis | Cluster;

/**
 * Fail fast instead of queueing: a command sent while Redis is away rejects at once and is never
 * replayed later (a late reserve could evict sessions nobody then terminates). Reconnects by itself
 * with a capped backoff.
 */
const failFast = {
  enableOfflineQueue: false,
  autoResendUnfulfilledCommands: false,
  maxRetriesPerRequest: 0,
  connectTimeout: connectTimeoutMs,
  commandTimeout: commandTimeoutMs,
  retryStrategy: (attempt: number) => Math.min(attempt * 100, maxReconnectDelayMs),
  // How long disconnect() waits for a half-closed socket before destroying it; the default 2 s
  // timer outlives close() and holds the process open.
  disconnectTimeout: 100,
} satisfies RedisOptions;

/**
 * The ioredis client for a connection description, in every mode with the same fail-fast settings.
 * A Sentinel client asks the Sentinels for the master on every (re)connection and drops a master
 * that turned replica, so it follows a failover by itself; a Cluster client follows MOVED and ASK
 * and refreshes its slot map on them, on CLUSTERDOWN and every few seconds.
 */
export function createRedisClient(connection: RedisConnection | string): RedisClient {
  const description =
    typeof connection === 'string' ? { mode: 'standalone' as const, url: connection } : connection;
  const server = serverOptions(description.url, description.ca);
  const client =
    description.mode === 'cluster'
      ? new Cluster(description.nodes, clusterOptions(server))
      : description.mode === 'sentinel'
        ? new Redis({
            ...server.options,
            ...failFast,
            ...sentinelOptions(description.sentinels, description.masterName, server.tls),
          })
        : new Redis({ ...server.options, host: server.host, port: server.port, ...failFast });
  // Failures surface as rejected commands and a failing readiness probe; without a listener
  // ioredis would print every reconnection error to the console.
  client.on('error', () => undefined);
  return client;
}

interface ServerOptions {
  host: string;
  port: number;
  tls?: ConnectionOptions;
  /** Credentials, database and TLS: what every connection to a data node carries. */
  options: RedisOptions;
}

/**
 * What a `redis://` or `rediss://` URL says, parsed here rather than by ioredis so that every mode
 * reads it the same way; `rediss:` always verifies the server's certificate (with `ca` when given).
 */
function serverOptions(url: string | undefined, ca: string | undefined): ServerOptions {
  const parsed = new URL(url ?? 'redis://127.0.0.1:6379');
  const tls: ConnectionOptions | undefined =
    parsed.protocol === 'rediss:'
      ? { ...(ca === undefined ? {} : { ca }), rejectUnauthorized: true }
      : undefined;
  const db = Number(parsed.pathname.slice(1) || 0);
  const options: RedisOptions = {
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(Number.isInteger(db) && db > 0 ? { db } : {}),
    ...(tls ? { tls } : {}),
  };
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
    port: Number(parsed.port || 6379),
    ...(tls ? { tls } : {}),
    options,
  };
}

function sentinelOptions(
  sentinels: { host: string; port: number }[],
  name: string,
  tls: ConnectionOptions | undefined,
): RedisOptions {
  return {
    sentinels,
    name,
    // A master that came back as a replica answers READONLY: reconnect (asking the Sentinels
    // again), without resending the command that met it.
    reconnectOnError: (err) => err.message.startsWith('READONLY'),
    // Learn of a failover from the Sentinels' +switch-master at once, not at the next failure.
    failoverDetector: true,
    sentinelCommandTimeout: commandTimeoutMs,
    sentinelRetryStrategy: (attempt) => Math.min(attempt * 100, maxReconnectDelayMs),
    ...(tls ? { enableTLSForSentinelMode: true, sentinelTLS: tls } : {}),
  };
}

function clusterOptions(server: ServerOptions): ClusterOptions {
  return {
    enableOfflineQueue: false,
    redisOptions: { ...server.options, ...failFast },
    clusterRetryStrategy: (attempt) => Math.min(attempt * 100, maxReconnectDelayMs),
    // A command whose connection closed may have run: failing it is the caller's safe choice, a
    // replay after the failover delay is not.
    retryDelayOnFailover: 0,
    // CLUSTERDOWN, TRYAGAIN, MOVED and ASK mean the command did not run: following them is safe.
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 100,
    maxRedirections: 5,
    slotsRefreshTimeout: connectTimeoutMs,
    slotsRefreshInterval: 2_000,
    ...(server.tls ? { dnsLookup: (address, callback) => callback(null, address) } : {}),
  };
}

const reconnectingStates = new Set(['connecting', 'connect', 'reconnecting']);

/**
 * Resolves once the client can take commands. While a connection is being (re)established it
 * waits for it, up to the connect timeout, so that a dropped connection costs a moment rather than
 * an error; the next failed attempt, or a client that was closed, rejects at once.
 */
export function whenReady(client: RedisClient): Promise<void> {
  if (client instanceof Cluster) return whenConnected(client).then(() => whenMastersReady(client));
  return whenConnected(client);
}

function whenConnected(client: RedisClient): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  if (!reconnectingStates.has(client.status)) return Promise.reject(unreachable(client.status));
  // One wait per client, however many commands arrive while it connects.
  let waiting = connecting.get(client);
  if (waiting === undefined) {
    waiting = waitForReady(client).finally(() => connecting.delete(client));
    connecting.set(client, waiting);
  }
  return waiting;
}

const connecting = new WeakMap<RedisClient, Promise<void>>();

/**
 * A ready Cluster connects to each node only when a command first goes there, and without an
 * offline queue the commands sent meanwhile would fail: the masters' connections are awaited too.
 */
async function whenMastersReady(cluster: Cluster): Promise<void> {
  await Promise.all(
    cluster.nodes('master').map((node) => {
      if (node.status !== 'wait') return whenConnected(node);
      let waiting = connecting.get(node);
      if (waiting === undefined) {
        waiting = node.connect().finally(() => connecting.delete(node));
        connecting.set(node, waiting);
      }
      return waiting;
    }),
  );
}

function waitForReady(client: RedisClient): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (err?: Error) => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onReady = () => settle();
    const onClose = () => settle(unreachable('closed'));
    const timer = setTimeout(() => settle(unreachable('connecting')), connectTimeoutMs);
    client.once('ready', onReady);
    client.once('close', onClose);
  });
}

function unreachable(state: string): Error {
  return new Error(`Redis is not reachable (connection ${state})`);
}
