import { Redis } from 'ioredis';

const connectTimeoutMs = 1_000;
const commandTimeoutMs = 1_000;
const maxReconnectDelayMs = 2_000;

/**
 * An ioredis client that fails fast instead of queueing: a command sent while Redis is away
 * rejects at once and is never replayed later (a late reserve could evict sessions nobody then
 * terminates). It reconnects by itself with a capped backoff.
 */
export function createRedisClient(url: string): Redis {
  const client = new Redis(url, {
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    connectTimeout: connectTimeoutMs,
    commandTimeout: commandTimeoutMs,
    retryStrategy: (attempt) => Math.min(attempt * 100, maxReconnectDelayMs),
    // How long disconnect() waits for a half-closed socket before destroying it; the default 2 s
    // timer outlives close() and holds the process open.
    disconnectTimeout: 100,
  });
  // Failures surface as rejected commands and a failing readiness probe; without a listener
  // ioredis would print every reconnection error to the console.
  client.on('error', () => undefined);
  return client;
}

const reconnectingStates = new Set(['connecting', 'connect', 'reconnecting']);

/**
 * Resolves once the client can take commands. While a connection is being (re)established it
 * waits for it, up to the connect timeout, so that a dropped connection costs a moment rather than
 * an error; the next failed attempt, or a client that was closed, rejects at once.
 */
export function whenReady(client: Redis): Promise<void> {
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

const connecting = new WeakMap<Redis, Promise<void>>();

function waitForReady(client: Redis): Promise<void> {
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
