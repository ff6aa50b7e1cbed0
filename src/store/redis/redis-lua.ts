/**
 * Lua shared by the Redis store's scripts. Each script runs atomically inside Redis, so a decision
 * (counting slots, queueing a termination, consuming a reservation) is taken against data that no
 * other replica can change halfway. Scripts get the key prefix as ARGV[1] and derive key names from
 * it, so the same helpers serve every script (which is also why they are not Redis Cluster-safe).
 * Times are epoch ms from the caller's clock.
 *
 * Keys under the prefix:
 * - `sessions` (zset id -> lapse time), `by-created` (zset id -> createdAt): every registered session;
 * - `session:<id>` (hash: record JSON, owner = the owner's `user-sessions` key);
 * - `user-sessions:<user>` (zset id -> lapse), `user-pending:<user>` and `pending` (zset
 *   reservation id -> lapse);
 * - `reservation:<id>` (hash: owner = the owner's `user-pending` key, victims JSON, committed id);
 * - `q:due` (zset partition -> due time), `q:jobs:<partition>` (list of job ids, FIFO),
 *   `q:job:<id>` (hash: topic, partition, payload, dropAt, attempts), `q:depth` (hash topic -> jobs);
 * - `idem:<user>:<key>` (hash: state, fingerprint, lapse, response, attempt).
 */

/** Extends a key's TTL to at least `ms` (never shortens it): garbage collection for index sets. */
export const keepFor = `
local function keepFor(key, ms)
  ms = math.max(math.floor(ms), 1)
  if redis.call('PTTL', key) < ms then redis.call('PEXPIRE', key, ms) end
end
`;

/** Adds a job unless its id is queued already; the partition becomes due at dueAt if it was idle. */
export const enqueueJob = `
local function enqueueJob(P, id, topic, partition, payload, dropAt, dueAt)
  local jobKey = P .. 'q:job:' .. id
  if redis.call('EXISTS', jobKey) == 1 then return 0 end
  redis.call('HSET', jobKey, 'topic', topic, 'partition', partition, 'payload', payload,
    'dropAt', dropAt, 'attempts', 0)
  redis.call('RPUSH', P .. 'q:jobs:' .. partition, id)
  redis.call('ZADD', P .. 'q:due', 'NX', dueAt, partition)
  redis.call('HINCRBY', P .. 'q:depth', topic, 1)
  return 1
end
`;

/** Queues the jobs in ARGV from index `first` on, six values each (see outboxArgs in redis-store.ts). */
export const enqueueOutbox = `${enqueueJob}
local function enqueueOutbox(P, first)
  for i = first, #ARGV, 6 do
    enqueueJob(P, ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5])
  end
end
`;

/** Queues the termination of a session given its record JSON (see TerminationPayload). */
export const queueTermination = `${enqueueJob}
local function queueTermination(P, sessionId, reason, recordJson, dueAt)
  local id = 'terminate:' .. sessionId
  local payload = '{"reason":' .. cjson.encode(reason) .. ',"record":' .. recordJson .. '}'
  return enqueueJob(P, id, 'terminate', id, payload, cjson.decode(recordJson).expiresAt, dueAt)
end
`;

/** Removes a job; the next job of its partition becomes due at once. */
export const ackJob = `
local function ackJob(P, id, now)
  local jobKey = P .. 'q:job:' .. id
  local found = redis.call('HMGET', jobKey, 'topic', 'partition')
  if not found[1] then return 0 end
  local list = P .. 'q:jobs:' .. found[2]
  redis.call('DEL', jobKey)
  redis.call('LREM', list, 1, id)
  redis.call('HINCRBY', P .. 'q:depth', found[1], -1)
  if redis.call('LLEN', list) == 0 then
    redis.call('ZREM', P .. 'q:due', found[2])
  else
    redis.call('ZADD', P .. 'q:due', now, found[2])
  end
  return 1
end
`;

/** Unregisters a session; returns its record JSON, or false when it was not registered. */
export const unregister = `
local function unregister(P, sessionId)
  local sessionKey = P .. 'session:' .. sessionId
  local found = redis.call('HMGET', sessionKey, 'record', 'owner')
  redis.call('ZREM', P .. 'sessions', sessionId)
  redis.call('ZREM', P .. 'by-created', sessionId)
  if not found[1] then return false end
  redis.call('DEL', sessionKey)
  redis.call('ZREM', found[2], sessionId)
  return found[1]
end
`;

/** A registered, unlapsed session's record JSON and owner key, or nil. */
export const liveSession = `
local function liveSession(P, sessionId, now)
  local found = redis.call('HMGET', P .. 'session:' .. sessionId, 'record', 'owner')
  if not found[1] then return nil end
  local lapse = tonumber(redis.call('ZSCORE', P .. 'sessions', sessionId))
  if not lapse or lapse <= now then return nil end
  return found[1], found[2]
end
`;
