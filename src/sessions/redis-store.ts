import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import { newestFirst } from './record-order';
import { createRedisClient, whenReady } from './redis-connection';
import { redisScripts, type RedisScriptName } from './redis-scripts';
import {
  retentionSlackMs,
  type IdempotencyBegin,
  type ReserveResult,
  type SessionRecord,
  type SessionStore,
  type StoredResponse,
} from './store';

export interface RedisStoreOptions {
  url: string;
  /** Prepended to every key; default `avaturn-broker:`. */
  keyPrefix?: string;
  /** Epoch ms; every replica must share wall time. */
  clock?: () => number;
}

type ScriptRunner = (...args: (string | number)[]) => Promise<unknown>;

/**
 * The session store shared by every replica. Slots, sessions and idempotency keys live in Redis;
 * every decision is one Lua script (see redis-scripts.ts), and everything a crashed replica leaves
 * behind lapses by sorted-set score and by key TTL.
 */
export function createRedisStore(options: RedisStoreOptions): SessionStore {
  const now = options.clock ?? Date.now;
  const keys = keyspace(options.keyPrefix ?? 'avaturn-broker:');
  const client = createRedisClient(options.url);
  for (const [name, definition] of Object.entries(redisScripts)) {
    client.defineCommand(scriptMethod(name as RedisScriptName), definition);
  }

  async function run(
    name: RedisScriptName,
    scriptKeys: string[],
    args: (string | number)[],
  ): Promise<unknown> {
    await whenReady(client);
    const script = (client as unknown as Record<string, ScriptRunner>)[scriptMethod(name)];
    if (!script) throw new Error(`Redis script ${name} is not defined`);
    return script.call(client, ...scriptKeys, ...args);
  }

  return {
    kind: 'redis',

    async reserve(req): Promise<ReserveResult> {
      const reservationId = randomUUID();
      const reply = (await run(
        'reserve',
        [
          keys.userSessions(req.userId),
          keys.userPending(req.userId),
          keys.allSessions,
          keys.allPending,
          keys.reservation(reservationId),
        ],
        [
          now(),
          req.perUserCap,
          req.globalCap,
          req.policy,
          reservationId,
          positiveMs(req.reservationTtlMs),
          keys.sessionPrefix,
        ],
      )) as string[];
      const [outcome, ...evicted] = reply;
      if (outcome === 'user-cap' || outcome === 'global-cap') return { ok: false, reason: outcome };
      return { ok: true, reservationId, evicted: evicted.map(parseRecord) };
    },

    async commit(reservationId, record) {
      const committed = await run(
        'commit',
        [
          keys.reservation(reservationId),
          keys.userPending(record.userId),
          keys.allPending,
          keys.userSessions(record.userId),
          keys.allSessions,
          keys.session(record.sessionId),
        ],
        [now(), reservationId, record.sessionId, JSON.stringify(record), record.expiresAt + retentionSlackMs],
      );
      if (committed !== 1) throw new Error('The reservation no longer exists (it lapsed or was released)');
    },

    async release(reservationId) {
      await run('release', [keys.reservation(reservationId), keys.allPending], [reservationId]);
    },

    async get(sessionId) {
      await whenReady(client);
      const json = await client.hget(keys.session(sessionId), 'record');
      if (json === null) return undefined;
      const record = parseRecord(json);
      return record.expiresAt + retentionSlackMs > now() ? record : undefined;
    },

    async listByUser(userId) {
      const reply = (await run(
        'listUser',
        [keys.userSessions(userId)],
        [now(), keys.sessionPrefix],
      )) as string[];
      return reply.map(parseRecord).sort(newestFirst);
    },

    async remove(sessionId, userId) {
      const owner = userId === undefined ? '' : keys.userSessions(userId);
      const json = (await run(
        'remove',
        [keys.session(sessionId), keys.allSessions],
        [now(), sessionId, owner],
      )) as string | null;
      return json === null ? undefined : parseRecord(json);
    },

    async countAll() {
      await whenReady(client);
      return client.zcount(keys.allSessions, `(${now()}`, '+inf');
    },

    async idempotencyBegin(userId, key, fingerprint, pendingTtlMs): Promise<IdempotencyBegin> {
      const reply = (await run(
        'idempotencyBegin',
        [keys.idempotency(userId, key)],
        [now(), fingerprint, positiveMs(pendingTtlMs)],
      )) as [string, string, string | null] | null;
      if (reply === null) return { state: 'started' };
      const [state, storedFingerprint, response] = reply;
      if (storedFingerprint !== fingerprint) return { state: 'mismatch' };
      if (state === 'completed' && response !== null) {
        return { state: 'completed', response: JSON.parse(response) as StoredResponse };
      }
      return { state: 'in-progress' };
    },

    async idempotencyComplete(userId, key, response, ttlMs) {
      await run(
        'idempotencyComplete',
        [keys.idempotency(userId, key)],
        [now(), JSON.stringify(response), positiveMs(ttlMs)],
      );
    },

    async idempotencyAbandon(userId, key) {
      await run('idempotencyAbandon', [keys.idempotency(userId, key)], []);
    },

    rateLimitStore(prefix) {
      return new RedisStore({ prefix: `${keys.prefix}rl:${prefix}`, sendCommand: rateLimitCommands(client) });
    },

    async ping() {
      await whenReady(client);
      await client.ping();
    },

    async close() {
      if (client.status === 'end') return;
      if (client.status === 'ready') {
        try {
          await client.quit();
          return;
        } catch {
          // Redis went away mid-quit: dropping the socket is all that is left to do.
        }
      }
      client.disconnect();
    },
  };
}

function keyspace(prefix: string) {
  return {
    prefix,
    /** Sorted set: sessionId → lapse time (expiresAt + retention slack), all users. */
    allSessions: `${prefix}sessions`,
    /** Sorted set: reservationId → lapse time, all users. */
    allPending: `${prefix}pending`,
    sessionPrefix: `${prefix}session:`,
    /** Hash: `record` (JSON SessionRecord), `owner` (the owner's user-sessions key). */
    session: (sessionId: string) => `${prefix}session:${sessionId}`,
    /** Sorted set: sessionId → lapse time, one user. */
    userSessions: (userId: string) => `${prefix}user-sessions:${userId}`,
    /** Sorted set: reservationId → lapse time, one user. */
    userPending: (userId: string) => `${prefix}user-pending:${userId}`,
    /** String: the owner's user-pending key, TTL = the reservation's. */
    reservation: (reservationId: string) => `${prefix}reservation:${reservationId}`,
    /**
     * Hash: state, fingerprint, lapse, response. The key part is escaped so that it holds no `:`,
     * which keeps (user, key) pairs from colliding whatever the user id contains.
     */
    idempotency: (userId: string, key: string) =>
      `${prefix}idem:${userId}:${key.replaceAll('%', '%25').replaceAll(':', '%3A')}`,
  };
}

function scriptMethod(name: RedisScriptName): string {
  return `broker:${name}`;
}

/**
 * express-rate-limit loads its Lua scripts once, at start-up. Should Redis be away then, answering
 * SCRIPT LOAD with the script's own SHA1 keeps the store usable afterwards: the first EVALSHA meets
 * NOSCRIPT and the library loads the script again.
 */
function rateLimitCommands(client: Redis) {
  return async (...args: string[]): Promise<RedisReply> => {
    const [command = '', ...rest] = args;
    try {
      await whenReady(client);
      return (await client.call(command, ...rest)) as RedisReply;
    } catch (err) {
      const script = rest[1];
      const isScriptLoad = command.toUpperCase() === 'SCRIPT' && rest[0]?.toUpperCase() === 'LOAD';
      if (isScriptLoad && script !== undefined) return createHash('sha1').update(script).digest('hex');
      throw err;
    }
  };
}

function parseRecord(json: string): SessionRecord {
  return JSON.parse(json) as SessionRecord;
}

function positiveMs(ms: number): number {
  return Math.max(1, Math.ceil(ms));
}
