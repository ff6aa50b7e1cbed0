import { releaseHold } from './redis-budget-lua';
/**
 * Lua shared by the Redis store's scripts. Each script runs atomically inside Redis, so a decision
 * (counting slots, queueing a termination, consuming a reservation) is taken against data that no
 * other replica can change halfway. Times are epoch ms from the caller's clock.
 *
 * Every key is `{<prefix>}<name>` (one hash tag: one slot), and every script gets all the keys it
 * touches in KEYS[] (`K.<name>`, see redis-keys.ts): no script builds a key name, so the same
 * scripts run on standalone, Sentinel and Cluster. Per-id data therefore lives in fields of a fixed
 * set of keys, and what a key TTL used to collect lapses by a score that the scripts clean as they
 * pass. This layout replaced one key per session, job and reservation; it has not been released,
 * so the old keys are not migrated (a broker on the old layout simply stops seeing them).
 *
 * Sessions:
 * - `sessions` (zset id -> lapse time), `by-created` (zset id -> createdAt): every registered
 *   session; `records` (hash id -> record JSON), `owners` (hash id -> user id);
 * - `user-sessions` (zset, all scores 0: member = the user id JSON-encoded, then the session id; a
 *   user's sessions are one lex range, see ownedRange).
 * Reservations:
 * - `reservations` (zset id -> lapse time: pending and committed ones, cleaned by reserve),
 *   `reservation-owners`, `reservation-victims`, `reservation-commits` (hashes id -> user id,
 *   victims JSON, committed session id);
 * - `pending` (zset id -> lapse: uncommitted ones, counted against the caps), `user-pending` (lex
 *   zset like `user-sessions`).
 * Jobs:
 * - `q:jobs` (hash id -> JSON {topic, partition, dropAt, member}), `q:payloads` (hash id -> payload
 *   JSON), `q:attempts` (hash id -> failed attempts);
 * - `q:fifo` (lex zset: member = the partition JSON-encoded, the enqueue number from `q:seq` in 16
 *   digits, then the job id: a partition's jobs in order, one lex range);
 * - `q:due` and `q:due:event` (zset partition -> due time: terminations, events), `q:depth` (hash
 *   topic -> jobs), `q:events` (zset event job id -> time: the outbox, oldest first),
 *   `q:event-lapse` (zset event job id -> when it is forgotten undelivered), `q:dropped` (events
 *   dropped because the outbox was full).
 * Others: `probe` (the readiness write probe), `epoch` (the data-loss marker, a plain string kept an
 * hour past its last check: see StoreEpoch), `idem:<user>:<key>` (hash: state, fingerprint, lapse,
 * response, attempt; its own key with a TTL, named by the caller and passed in KEYS[]; the HTTP layer
 * names it `idem:sealed:<lookup>`).
 *
 * Every key also gets a TTL at least as long as the data it holds needs (keepFor), so that a store
 * whose replicas all died lapses as a whole.
 */

/** Extends the keys' TTLs to at least `ms` (never shortens one): garbage collection for whole keys. */
export const keepFor = `
local function keepFor(keys, ms)
  ms = math.max(math.floor(ms), 1)
  for _, key in ipairs(keys) do
    if redis.call('PTTL', key) < ms then redis.call('PEXPIRE', key, ms) end
  end
end
`;

/**
 * Members of a lex-ordered zset grouped by an owner (a user, a partition): the owner JSON-encoded
 * (so that it ends at its closing quote and no owner's members start with another's), then the rest.
 * ownedRange gives ZRANGEBYLEX's bounds for one owner and the length of the members' owner part.
 */
export const owned = `
local function ownedMember(owner, rest)
  return cjson.encode(owner) .. rest
end
local function ownedRange(owner)
  local head = cjson.encode(owner)
  return '[' .. head, '(' .. head .. string.char(255), #head
end
`;

/**
 * A topic's due set: events have their own, so that a backlog of events never delays a
 * termination's claim.
 */
export const dueKey = `
local function dueKey(topic)
  if topic == 'event' then return K.dueEvent end
  return K.due
end
`;

/** A partition's first job: its id and its `q:fifo` member, or nil. */
export const partitionHead = `${owned}
local function partitionHead(partition)
  local low, high, skip = ownedRange(partition)
  local member = redis.call('ZRANGEBYLEX', K.fifo, low, high, 'LIMIT', 0, 1)[1]
  if not member then return nil end
  return member:sub(skip + 17), member
end
`;

/** Removes a job; the next job of its partition becomes due at `nextDue`. Returns 1 if it was queued. */
export const removeJob = `${dueKey}${partitionHead}
local function removeJob(id, nextDue)
  redis.call('ZREM', K.events, id)
  redis.call('ZREM', K.eventLapse, id)
  local header = redis.call('HGET', K.jobs, id)
  if not header then return 0 end
  local job = cjson.decode(header)
  redis.call('HDEL', K.jobs, id)
  redis.call('HDEL', K.payloads, id)
  redis.call('HDEL', K.attempts, id)
  redis.call('ZREM', K.fifo, job.member)
  redis.call('HINCRBY', K.depth, job.topic, -1)
  if partitionHead(job.partition) then
    redis.call('ZADD', dueKey(job.topic), nextDue, job.partition)
  else
    redis.call('ZREM', dueKey(job.topic), job.partition)
  end
  return 1
end
`;

/** How long an undelivered event job outlives its dropAt: the backstop should every worker be gone. */
export const eventKeyMarginMs = 60 * 60_000;

/** Forgets up to `limit` event jobs past their lapse time (left behind while no worker ran). */
export const dropLapsedEvents = `${removeJob}
local function dropLapsedEvents(now, limit)
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', K.eventLapse, '-inf', now, 'LIMIT', 0, limit)) do
    removeJob(id, now)
  end
end
`;

/**
 * Adds a job unless its id is queued already; the partition becomes due at dueAt if it was idle.
 * An event job is forgotten after its dropAt (q:event-lapse), and beyond `maxEvents` event jobs
 * (`q:events`, oldest first) the oldest is dropped and counted in `q:dropped`, so the cap holds
 * across replicas.
 */
export const enqueueJob = `${keepFor}${removeJob}
local function enqueueJob(id, topic, partition, payload, dropAt, dueAt, maxEvents, now)
  if redis.call('HEXISTS', K.jobs, id) == 1 then return 0 end
  local member = ownedMember(partition, string.format('%016d', redis.call('INCR', K.seq)) .. id)
  local header = { topic = topic, partition = partition, dropAt = dropAt, member = member }
  redis.call('HSET', K.jobs, id, cjson.encode(header))
  redis.call('HSET', K.payloads, id, payload)
  redis.call('HSET', K.attempts, id, 0)
  redis.call('ZADD', K.fifo, 0, member)
  redis.call('ZADD', dueKey(topic), 'NX', dueAt, partition)
  redis.call('HINCRBY', K.depth, topic, 1)
  local lapse = math.max(tonumber(dropAt), now) + ${eventKeyMarginMs}
  if topic == 'event' then
    redis.call('ZADD', K.eventLapse, lapse, id)
    redis.call('ZADD', K.events, 'NX', dueAt, id)
    while redis.call('ZCARD', K.events) > tonumber(maxEvents) do
      local oldest = redis.call('ZPOPMIN', K.events)[1]
      if removeJob(oldest, dueAt) == 1 then redis.call('INCR', K.dropped) end
    end
  end
  keepFor({K.jobs, K.payloads, K.attempts, K.fifo, K.seq, K.due, K.dueEvent, K.depth, K.events,
    K.eventLapse, K.dropped}, lapse - now)
  return 1
end
`;

/**
 * Queues the jobs in ARGV from index `first` on: the event cap, then six values per job (see
 * outboxArgs in redis-store.ts). Forgets a few lapsed event jobs on the way.
 */
export const enqueueOutbox = `${enqueueJob}${dropLapsedEvents}
local function enqueueOutbox(first, now)
  local maxEvents = ARGV[first]
  for i = first + 1, #ARGV, 6 do
    enqueueJob(ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], maxEvents, now)
  end
  dropLapsedEvents(now, 20)
end
`;

/** Queues the termination of a session given its record JSON (see TerminationPayload); never capped. */
export const queueTermination = `${enqueueJob}
local function queueTermination(sessionId, reason, recordJson, dueAt, now)
  local id = 'terminate:' .. sessionId
  local payload = '{"reason":' .. cjson.encode(reason) .. ',"record":' .. recordJson ..
    ',"requestedAt":' .. string.format('%d', now) .. '}'
  local dropAt = tostring(cjson.decode(recordJson).expiresAt)
  return enqueueJob(id, 'terminate', id, payload, dropAt, dueAt, 0, now)
end
`;

/** Removes a job; the next job of its partition becomes due at once. */
export const ackJob = `${removeJob}
local function ackJob(id, now)
  return removeJob(id, now)
end
`;

/** Unregisters a session; returns its record JSON, or false when it was not registered. */
export const unregister = `${owned}
local function unregister(sessionId)
  local json = redis.call('HGET', K.records, sessionId)
  local owner = redis.call('HGET', K.owners, sessionId)
  redis.call('ZREM', K.sessions, sessionId)
  redis.call('ZREM', K.byCreated, sessionId)
  if owner then redis.call('ZREM', K.userSessions, ownedMember(owner, sessionId)) end
  if not json then return false end
  local tenant = cjson.decode(json).tenantId
  if type(tenant) == 'string' then redis.call('ZREM', K.tenantSessions, ownedMember(tenant, sessionId)) end
  redis.call('HDEL', K.records, sessionId)
  redis.call('HDEL', K.owners, sessionId)
  return json
end
`;

/** A registered, unlapsed session's record JSON and owner's user id, or nil. */
export const liveSession = `
local function liveSession(sessionId, now)
  local json = redis.call('HGET', K.records, sessionId)
  if not json then return nil end
  local lapse = tonumber(redis.call('ZSCORE', K.sessions, sessionId))
  if not lapse or lapse <= now then return nil end
  return json, redis.call('HGET', K.owners, sessionId)
end
`;

/**
 * Forgets a reservation: pending or committed, its slot and its memory; an uncommitted one's budget
 * hold too (a committed one's belongs to its session until it is settled).
 */
export const forgetReservation = `${owned}${releaseHold}
local function forgetReservation(id)
  local owner = redis.call('HGET', K.reservationOwners, id)
  if owner then redis.call('ZREM', K.userPending, ownedMember(owner, id)) end
  local tenant = redis.call('HGET', K.reservationTenants, id)
  if tenant then redis.call('ZREM', K.tenantPending, ownedMember(tenant, id)) end
  if not redis.call('HGET', K.reservationCommits, id) then releaseHold(id) end
  redis.call('ZREM', K.pending, id)
  redis.call('ZREM', K.reservations, id)
  redis.call('HDEL', K.reservationOwners, id)
  redis.call('HDEL', K.reservationVictims, id)
  redis.call('HDEL', K.reservationCommits, id)
  redis.call('HDEL', K.reservationTenants, id)
  redis.call('HDEL', K.reservationGrants, id)
end
`;
