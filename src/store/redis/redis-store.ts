import { createHash } from 'node:crypto';
import { Cluster } from 'ioredis';
import type { RedisConnection } from '../../config/types';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import { newestFirst } from '../record-order';
import { meterLapse, type BudgetRequest, type BudgetScope, type BudgetWindow } from '../budgets';
import { ledgerKeys, parseOverrides, redisBudgetReads } from './redis-budgets';
import { createRedisClient, whenReady, type RedisClient } from './redis-connection';
import { idempotencyScripts } from './redis-idempotency-scripts';
import { queueScripts } from './redis-queue-scripts';
import { keyTag, numberOfKeys, scriptArguments, storeKeys, type ScriptDefinition } from './redis-keys';
import { registryScripts } from './redis-registry-scripts';
import {
  defaultOutboxMaxJobs,
  JOB_TOPICS,
  ReservationLostError,
  retentionSlackMs,
  type Grant,
  type IdempotencyBegin,
  type Job,
  type JobTopic,
  type NewJob,
  type ReserveResult,
  type SessionRecord,
  type SessionStore,
} from '../ports';

export type RedisStoreOptions = RedisStoreSettings &
  (
    | { /** One server, `redis://` or `rediss://`. */ url: string }
    | { /** One server, a Cluster or Sentinel (see loadConfig). */ connection: RedisConnection }
  );

interface RedisStoreSettings {
  /**
   * Names this broker's keys, so that brokers can share one Redis; default `avaturn-broker:`. Every
   * key starts with it in braces (one hash tag), so it must hold neither `{` nor `}`.
   */
  keyPrefix?: string;
  /** Epoch ms; every replica must share wall time. */
  clock?: () => number;
  /** Undelivered events kept at most (oldest dropped beyond it); default defaultOutboxMaxJobs. */
  outboxMaxJobs?: number;
  /** Days the usage ledger keeps (USAGE_RETENTION_DAYS); default 400. */
  usageRetentionDays?: number;
}

/**
 * How long a session's record outlives its lapse time, so that sweepExpired can still report it;
 * and how long every key lives at most after nobody touches it (a store whose replicas all died).
 */
const keepAfterLapseMs = 60 * 60_000;

export const storeScripts = { ...registryScripts, ...queueScripts, ...idempotencyScripts };
const scripts = storeScripts;
type ScriptName = keyof typeof scripts;
type ScriptRunner = (...args: (string | number)[]) => Promise<unknown>;

/**
 * The session store shared by every replica. Slots, sessions, idempotency keys and the job queue
 * live in Redis; every decision is one Lua script (see redis-lua.ts for the keys), and everything
 * a crashed replica leaves behind lapses by sorted-set score, cleaned as the scripts pass, and by key
 * TTL.
 */
export function createRedisStore(options: RedisStoreOptions): SessionStore {
  const now = options.clock ?? Date.now;
  const tag = keyTag(options.keyPrefix ?? 'avaturn-broker:');
  const key = (name: keyof typeof storeKeys) => tag + storeKeys[name];
  const maxEvents = Math.max(1, Math.floor(options.outboxMaxJobs ?? defaultOutboxMaxJobs));
  /** Jobs as script arguments: the event cap, then six values each (see enqueueOutbox in redis-lua.ts). */
  const outboxArgs = (jobs: NewJob[]): (string | number)[] => [
    maxEvents,
    ...jobs.flatMap((job) => [
      job.id,
      job.topic,
      job.partition,
      JSON.stringify(job.payload),
      job.dropAt,
      job.dueAt,
    ]),
  ];
  /** The readiness write under way: probes that arrive meanwhile share it. */
  let probe: Promise<void> | undefined;
  const client = createRedisClient('connection' in options ? options.connection : options.url);
  for (const [name, definition] of Object.entries(scripts) as [ScriptName, ScriptDefinition][]) {
    client.defineCommand(scriptMethod(name), {
      numberOfKeys: numberOfKeys(definition),
      lua: definition.lua,
    });
  }

  async function run(name: ScriptName, ...args: (string | number)[]): Promise<unknown> {
    await whenReady(client);
    const method = (client as unknown as Record<string, ScriptRunner>)[scriptMethod(name)];
    if (!method) throw new Error(`Redis script ${name} is not defined`);
    const call = method.call(client, ...scriptArguments(scripts[name], tag, args));
    return call.catch((err: unknown) => {
      throw withoutArguments(err, name);
    });
  }

  const budgetReads = redisBudgetReads(client, key, (name) => tag + name);
  const retentionMs = (options.usageRetentionDays ?? 400) * 86_400_000;
  /** A settlement's keys (the day's ledger) and its lapse arguments, for the charge's day and month. */
  const settlementParts = (record: SessionRecord | undefined) => {
    const day = record?.charge?.day ?? new Date(now()).toISOString().slice(0, 10);
    const month = record?.charge?.month ?? day.slice(0, 7);
    return {
      keys: ledgerKeys(day).map((name) => tag + name),
      lapses: [meterLapse(day), meterLapse(month), meterLapse(day) + retentionMs],
    };
  };
  const ready =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      await whenReady(client);
      return call(...args);
    };

  const idempotencyKey = (userId: string, key: string) =>
    // The key part is escaped so that it holds no `:`, which keeps (user, key) pairs apart.
    `${tag}idem:${userId}:${key.replaceAll('%', '%25').replaceAll(':', '%3A')}`;

  return {
    kind: 'redis',

    async reserve(req): Promise<ReserveResult> {
      const reply = (await run(
        'reserve',
        now(),
        req.userId,
        req.reservationId,
        req.perUserCap,
        req.globalCap,
        req.policy,
        positiveMs(req.reservationTtlMs),
        Math.max(0, Math.ceil(req.evictionGraceMs)),
        req.tenantId ?? '',
        req.tenantCap ?? 0,
        ...budgetArgs(req.budget),
      )) as string[];
      return reserveResult(reply);
    },

    async commit(reservationId, record, outbox = []) {
      const at = now();
      const lapse = record.expiresAt + retentionSlackMs;
      const committed = await run(
        'commit',
        at,
        reservationId,
        record.userId,
        record.sessionId,
        JSON.stringify(record),
        record.createdAt,
        lapse,
        positiveMs(lapse - at + keepAfterLapseMs),
        ...outboxArgs(outbox),
      );
      if (committed !== 1) throw new ReservationLostError();
    },

    async release(reservationId) {
      await run('release', reservationId);
    },

    async get(sessionId) {
      await whenReady(client);
      const [json, lapse] = await Promise.all([
        client.hget(key('records'), sessionId),
        client.zscore(key('sessions'), sessionId),
      ]);
      if (json === null || lapse === null || Number(lapse) <= now()) return undefined;
      return parseRecord(json);
    },

    async listByUser(userId) {
      const reply = (await run('listUser', now(), userId)) as string[];
      return reply.map(parseRecord).sort(newestFirst);
    },

    async listByTenant(tenantId) {
      const reply = (await run('listTenant', now(), tenantId)) as string[];
      return reply.map(parseRecord).sort(newestFirst);
    },

    limitOverrides: ready(budgetReads.limitOverrides),
    async setLimitOverrides(subject, patch) {
      const pairs = Object.entries(patch).flatMap(([field, value]) =>
        value === undefined ? [] : [field, value === null ? '' : String(value)],
      );
      const json = (await run('setLimits', `${subject.scope}:${subject.id}`, ...pairs)) as string;
      return parseOverrides(JSON.parse(json) as Record<string, unknown>);
    },
    meterUse: ready(budgetReads.meterUse),
    usage: ready(budgetReads.usage),

    async listAll(limit) {
      const reply = (await run('listAll', now(), Math.max(0, Math.floor(limit)))) as string[];
      return reply.map(parseRecord);
    },

    async countAll() {
      await whenReady(client);
      return client.zcount(key('sessions'), `(${now()}`, '+inf');
    },

    async requestEnd(req) {
      const known = req.known?.sessionId === req.sessionId ? JSON.stringify(req.known) : '';
      const json = (await run(
        'requestEnd',
        now(),
        req.sessionId,
        req.reason,
        req.ownerId ?? '',
        req.dueAt,
        known,
      )) as string | null;
      return json === null ? undefined : parseRecord(json);
    },

    async finishEnd(sessionId, outbox = [], ended) {
      const given = ended?.record?.sessionId === sessionId ? ended.record : undefined;
      const { keys, lapses } = settlementParts(given);
      const json = (await run(
        'finishEnd',
        ...keys,
        now(),
        sessionId,
        ended === undefined ? '0' : '1',
        ended?.at ?? 0,
        given === undefined ? '' : JSON.stringify(given),
        ...lapses,
        ...outboxArgs(outbox),
      )) as string | null;
      return json === null ? undefined : parseRecord(json);
    },

    async sweepExpired(limit, outboxFor = () => []) {
      const at = now();
      const lapsed = (await run('lapsedSessions', at, Math.max(0, Math.floor(limit)))) as string[];
      const swept: SessionRecord[] = [];
      for (const record of lapsed.map(parseRecord)) {
        const { keys, lapses } = settlementParts(record);
        const expired = await run(
          'expireSession',
          ...keys,
          now(),
          record.sessionId,
          ...lapses,
          ...outboxArgs(outboxFor(record)),
        );
        if (expired === 1) swept.push(record);
      }
      return swept;
    },

    async enqueue(job) {
      await run('enqueue', now(), ...outboxArgs([job]));
    },

    async claimJobs(limit, leaseMs, topic): Promise<Job[]> {
      const flat = (await run(
        'claim',
        now(),
        Math.max(0, Math.floor(limit)),
        positiveMs(leaseMs),
        ...(topic === undefined ? JOB_TOPICS : [topic]),
      )) as string[];
      const jobs: Job[] = [];
      for (let i = 0; i + 5 < flat.length; i += 6) {
        const [id, topic, partition, payload, dropAt, attempts] = flat.slice(i, i + 6) as string[];
        jobs.push({
          id: id!,
          topic: topic as JobTopic,
          partition: partition!,
          payload: JSON.parse(payload!) as unknown,
          dropAt: Number(dropAt),
          attempts: Number(attempts),
        });
      }
      return jobs;
    },

    async ackJob(jobId) {
      await run('ack', jobId, now());
    },

    async retryJob(jobId, dueAt) {
      await run('retry', jobId, dueAt);
    },

    async queueDepth() {
      await whenReady(client);
      const counts = await client.hgetall(key('depth'));
      return Object.fromEntries(JOB_TOPICS.map((topic) => [topic, Number(counts[topic] ?? 0)])) as Record<
        JobTopic,
        number
      >;
    },

    async outboxDropped() {
      await whenReady(client);
      return Number((await client.get(key('dropped'))) ?? 0);
    },

    async idempotencyBegin(userId, key, fingerprint, pendingTtlMs, attemptId): Promise<IdempotencyBegin> {
      const [state, response] = (await run(
        'idempotencyBegin',
        idempotencyKey(userId, key),
        now(),
        fingerprint,
        positiveMs(pendingTtlMs),
        attemptId,
      )) as [string, string?];
      if (state === 'completed' && response !== undefined)
        return { state, response: JSON.parse(response) as unknown };
      if (state === 'mismatch' || state === 'in-progress') return { state };
      return { state: 'started' };
    },

    async idempotencyComplete(userId, key, response, ttlMs) {
      await run(
        'idempotencyComplete',
        idempotencyKey(userId, key),
        now(),
        JSON.stringify(response),
        positiveMs(ttlMs),
      );
    },

    async idempotencyAbandon(userId, key, attemptId) {
      await run('idempotencyAbandon', idempotencyKey(userId, key), attemptId);
    },

    /**
     * One key, set only where none is (a store that lost its data), without Lua; every check keeps
     * it for another keepAfterLapseMs, so it goes away only with every replica.
     */
    async epochMarker(candidate) {
      await whenReady(client);
      const epoch = key('epoch');
      const replies = await client
        .multi()
        .set(epoch, candidate, 'PX', keepAfterLapseMs, 'NX')
        .pexpire(epoch, keepAfterLapseMs)
        .get(epoch)
        .exec();
      const [error, marker] = replies?.[2] ?? [new Error('Redis did not run the epoch marker transaction')];
      if (error) throw withoutArguments(error, 'epoch');
      return typeof marker === 'string' ? marker : candidate;
    },

    rateLimitStore(limiterPrefix) {
      return new RedisStore({
        prefix: `${tag}rl:${limiterPrefix}`,
        sendCommand: rateLimitCommands(client),
      });
    },

    /**
     * A write, not a PING: a Redis out of memory under `noeviction`, a read-only replica or one that
     * cannot persist (MISCONF) answers PING but refuses every write the broker needs.
     */
    async ping() {
      probe ??= whenReady(client)
        .then(async () => {
          await client.set(key('probe'), String(now()), 'PX', 10_000);
        })
        .finally(() => (probe = undefined));
      await probe;
    },

    async evictionPolicy() {
      await whenReady(client);
      // Managed services often refuse CONFIG; then the policy is simply not known.
      const reply = (await client.config('GET', 'maxmemory-policy').catch(() => [])) as string[];
      return reply[1];
    },

    async close() {
      if (client.status === 'end') return;
      if (client.status === 'ready') {
        // QUIT lets the replies under way arrive; Redis going away meanwhile leaves only the drop below.
        await client.quit().catch(() => undefined);
      }
      // Also what QUIT leaves open: a Sentinel client's subscriptions to the Sentinels.
      client.disconnect();
    },
  };
}

function scriptMethod(name: ScriptName): string {
  return `broker:${name}`;
}

/**
 * express-rate-limit loads its Lua scripts once, at start-up. Should Redis be away then, answering
 * SCRIPT LOAD with the script's own SHA1 keeps the store usable afterwards: the first EVALSHA meets
 * NOSCRIPT and the library loads the script again.
 */
function rateLimitCommands(client: RedisClient) {
  return async (...args: string[]): Promise<RedisReply> => {
    const [command = '', ...rest] = args;
    try {
      await whenReady(client);
      if (isScriptLoad(command, rest) && client instanceof Cluster)
        return await loadOnEveryMaster(client, rest);
      return (await client.call(command, ...rest)) as RedisReply;
    } catch (err) {
      const script = rest[1];
      if (isScriptLoad(command, rest) && script !== undefined)
        return createHash('sha1').update(script).digest('hex');
      // The library loads its scripts again on an error whose message starts NOSCRIPT (a Redis that
      // restarted, or failed over to a replica that never loaded them); the arguments stay hidden.
      const hidden = withoutArguments(err, 'rate-limit');
      if (hidden instanceof Error && (hidden as { code?: unknown }).code === 'NOSCRIPT')
        hidden.message = `NOSCRIPT ${hidden.message}`;
      throw hidden;
    }
  };
}

function isScriptLoad(command: string, rest: string[]): boolean {
  return command.toUpperCase() === 'SCRIPT' && rest[0]?.toUpperCase() === 'LOAD';
}

/** A Cluster sends a keyless command to any node; the script must be where its key's slot lives. */
async function loadOnEveryMaster(cluster: Cluster, rest: string[]): Promise<RedisReply> {
  const [sha] = await Promise.all(cluster.nodes('master').map((node) => node.call('SCRIPT', ...rest)));
  return sha as RedisReply;
}

/**
 * ioredis hangs a failed command's arguments on its error (`command.args`: user ids, records,
 * payloads), and a 503's cause is logged. Only the script's name and Redis's error code (ERR, OOM,
 * READONLY, MISCONF, ...) go on.
 */
function withoutArguments(err: unknown, script: string): unknown {
  if (typeof err !== 'object' || err === null || !('command' in err)) return err;
  const code = /^[A-Z]+/.exec(err instanceof Error ? err.message : '')?.[0] ?? 'ERR';
  return Object.assign(new Error(`Redis script ${script} failed: ${code}`), {
    name: 'RedisScriptError',
    code,
  });
}

/** The budget part of reserve's arguments (see holdBudget in redis-budget-lua.ts). */
function budgetArgs(budget: BudgetRequest | undefined): (string | number)[] {
  if (budget === undefined) return ['0'];
  const { period, defaults } = budget;
  return [
    '1',
    budget.maxSeconds,
    period.day,
    period.month,
    period.dayEndsAt,
    period.monthEndsAt,
    meterLapse(period.day),
    meterLapse(period.month),
    defaults.user.day,
    defaults.user.month,
    defaults.tenant.day,
    defaults.tenant.month,
    defaults.service.day,
  ];
}

function reserveResult([outcome, ...rest]: string[]): ReserveResult {
  if (outcome === 'user-cap' || outcome === 'global-cap' || outcome === 'tenant-cap')
    return { ok: false, reason: outcome };
  if (outcome === 'budget') {
    const [scope, window, retryAt] = rest as [BudgetScope, BudgetWindow, string];
    return { ok: false, reason: 'budget', scope, window, retryAt: Number(retryAt) };
  }
  const [victims, grant, epoch] = rest;
  const result: ReserveResult = { ok: true, victims: JSON.parse(victims ?? '[]') as SessionRecord[] };
  if (grant) result.grant = JSON.parse(grant) as Grant;
  if (epoch) result.epoch = epoch;
  return result;
}

function parseRecord(json: string): SessionRecord {
  return JSON.parse(json) as SessionRecord;
}

function positiveMs(ms: number): number {
  return Math.max(1, Math.ceil(ms));
}
