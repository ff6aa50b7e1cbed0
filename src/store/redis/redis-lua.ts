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
 * - `q:due` and `q:due:event` (zset partition -> due time: terminations, events), `q:jobs:<partition>`
 *   (list of job ids, FIFO), `q:job:<id>` (hash: topic, partition, payload, dropAt, attempts),
 *   `q:depth` (hash topic -> jobs), `q:events` (zset event job id -> time: the outbox, oldest
 *   first), `q:dropped` (events dropped because the outbox was full);
 * - `probe` (the readiness write probe);
 * - `epoch` (the data-loss marker, a plain string kept an hour past its last check: see StoreEpoch);
 * - `idem:<user>:<key>` (hash: state, fingerprint, lapse, response, attempt).
 */

/** Extends a key's TTL to at least `ms` (never shortens it): garbage collection for index sets. */
export const keepFor = `
local function keepFor(key, ms)
  ms = math.max(math.floor(ms), 1)
  if redis.call('PTTL', key) < ms then redis.call('PEXPIRE', key, ms) end
end
`;

/**
 * A topic's due set: terminations keep `q:due` (so that those queued before the split are still
 * claimed), events have their own, so that a backlog of events never delays a termination's claim.
 */
export const dueKey = `
local function dueKey(P, topic)
  if topic == 'event' then return P .. 'q:due:event' end
  return P .. 'q:due'
end
`;

/** Removes a job; the next job of its partition becomes due at `nextDue`. Returns 1 if it was queued. */
export const removeJob = `${dueKey}
local function removeJob(P, id, nextDue)
  local jobKey = P .. 'q:job:' .. id
  local found = redis.call('HMGET', jobKey, 'topic', 'partition')
  local wasEvent = redis.call('ZREM', P .. 'q:events', id)
  if not found[1] then
    -- An event whose key expired: it leaves the count now; its id leaves its list when claimed.
    if wasEvent == 1 then redis.call('HINCRBY', P .. 'q:depth', 'event', -1) end
    return 0
  end
  local list = P .. 'q:jobs:' .. found[2]
  redis.call('DEL', jobKey)
  redis.call('LREM', list, 1, id)
  redis.call('HINCRBY', P .. 'q:depth', found[1], -1)
  if redis.call('LLEN', list) == 0 then
    redis.call('ZREM', dueKey(P, found[1]), found[2])
  else
    redis.call('ZADD', dueKey(P, found[1]), nextDue, found[2])
  end
  return 1
end
`;

/** How long an event job's key outlives its dropAt: the backstop should every worker be gone. */
export const eventKeyMarginMs = 60 * 60_000;

/**
 * Adds a job unless its id is queued already; the partition becomes due at dueAt if it was idle.
 * An event job expires by itself after its dropAt, and beyond `maxEvents` event jobs (`q:events`,
 * oldest first) the oldest is dropped and counted in `q:dropped`, so the cap holds across replicas.
 */
export const enqueueJob = `${removeJob}
local function enqueueJob(P, id, topic, partition, payload, dropAt, dueAt, maxEvents)
  local jobKey = P .. 'q:job:' .. id
  if redis.call('EXISTS', jobKey) == 1 then return 0 end
  redis.call('HSET', jobKey, 'topic', topic, 'partition', partition, 'payload', payload,
    'dropAt', dropAt, 'attempts', 0)
  redis.call('RPUSH', P .. 'q:jobs:' .. partition, id)
  redis.call('ZADD', dueKey(P, topic), 'NX', dueAt, partition)
  redis.call('HINCRBY', P .. 'q:depth', topic, 1)
  if topic ~= 'event' then return 1 end
  redis.call('PEXPIRE', jobKey, math.max(tonumber(dropAt) - tonumber(dueAt), 0) + ${eventKeyMarginMs})
  local events = P .. 'q:events'
  redis.call('ZADD', events, 'NX', dueAt, id)
  while redis.call('ZCARD', events) > tonumber(maxEvents) do
    local oldest = redis.call('ZPOPMIN', events)[1]
    if removeJob(P, oldest, dueAt) == 1 then redis.call('INCR', P .. 'q:dropped') end
  end
  return 1
end
`;

/**
 * Queues the jobs in ARGV from index `first` on: the event cap, then six values per job (see
 * outboxArgs in redis-store.ts).
 */
export const enqueueOutbox = `${enqueueJob}
local function enqueueOutbox(P, first)
  local maxEvents = ARGV[first]
  for i = first + 1, #ARGV, 6 do
    enqueueJob(P, ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], maxEvents)
  end
end
`;

/** Queues the termination of a session given its record JSON (see TerminationPayload); never capped. */
export const queueTermination = `${enqueueJob}
local function queueTermination(P, sessionId, reason, recordJson, dueAt)
  local id = 'terminate:' .. sessionId
  local payload = '{"reason":' .. cjson.encode(reason) .. ',"record":' .. recordJson .. '}'
  return enqueueJob(P, id, 'terminate', id, payload, cjson.decode(recordJson).expiresAt, dueAt, 0)
end
`;

/** Removes a job; the next job of its partition becomes due at once. */
export const ackJob = `${removeJob}
local function ackJob(P, id, now)
  return removeJob(P, id, now)
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
