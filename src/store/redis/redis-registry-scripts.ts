import { script } from './redis-keys';
import {
  ackJob,
  enqueueOutbox,
  forgetReservation,
  keepFor,
  liveSession,
  owned,
  queueTermination,
  unregister,
} from './redis-lua';

/** Lapsed reservations reserve forgets per call (each is forgotten once: the cost is spread). */
const reservationsForgottenPerCall = 100;

/**
 * ARGV: now, userId, reservationId, perUserCap, globalCap, policy, ttlMs, evictionGraceMs.
 * Returns {'ok', victimsJson} (also when the reservation exists already: a repeated call),
 * or {'user-cap'} or {'global-cap'}.
 */
const reserve = script(`${keepFor}${owned}${forgetReservation}${queueTermination}
local now, userId, reservationId = tonumber(ARGV[1]), ARGV[2], ARGV[3]
local perUserCap, globalCap, policy = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
local ttl, grace = tonumber(ARGV[7]), tonumber(ARGV[8])

local lapsed = redis.call('ZRANGEBYSCORE', K.reservations, '-inf', now, 'LIMIT', 0, ${reservationsForgottenPerCall})
for _, id in ipairs(lapsed) do forgetReservation(id) end

local owner = redis.call('HGET', K.reservationOwners, reservationId)
if owner then
  if owner ~= userId then return redis.error_reply('reservation id reused for another user') end
  return {'ok', redis.call('HGET', K.reservationVictims, reservationId)}
end

-- A member whose record now belongs to another user is not this user's session.
local low, high, skip = ownedRange(userId)
local live = {}
for _, member in ipairs(redis.call('ZRANGEBYLEX', K.userSessions, low, high)) do
  local id = member:sub(skip + 1)
  local json = redis.call('HGET', K.records, id)
  if json and redis.call('HGET', K.owners, id) == userId then
    local lapse = tonumber(redis.call('ZSCORE', K.sessions, id))
    if lapse and lapse > now then
      local ending = redis.call('HEXISTS', K.jobs, 'terminate:' .. id)
      live[#live + 1] = { id = id, json = json, createdAt = cjson.decode(json).createdAt, ending = ending }
    end
  else
    redis.call('ZREM', K.userSessions, member)
  end
end
local userPending = 0
for _, member in ipairs(redis.call('ZRANGEBYLEX', K.userPending, low, high)) do
  local lapse = tonumber(redis.call('ZSCORE', K.pending, member:sub(skip + 1)))
  if lapse and lapse > now then userPending = userPending + 1 end
end

local userCount = #live + userPending
local globalCount = redis.call('ZCOUNT', K.sessions, '(' .. now, '+inf') + redis.call('ZCOUNT', K.pending, '(' .. now, '+inf')
local evictCount = 0
if userCount >= perUserCap then
  evictCount = userCount - perUserCap + 1
  if policy ~= 'replace-oldest' or evictCount > #live then return {'user-cap'} end
end
if globalCap > 0 and globalCount - evictCount >= globalCap then return {'global-cap'} end

table.sort(live, function(a, b)
  if a.ending ~= b.ending then return a.ending > b.ending end
  if a.createdAt ~= b.createdAt then return a.createdAt < b.createdAt end
  return a.id < b.id
end)
local victims = {}
for i = 1, evictCount do
  queueTermination(live[i].id, 'replaced', live[i].json, now + grace, now)
  victims[#victims + 1] = live[i].json
end
local victimsJson = '[' .. table.concat(victims, ',') .. ']'

redis.call('HSET', K.reservationOwners, reservationId, userId)
redis.call('HSET', K.reservationVictims, reservationId, victimsJson)
redis.call('ZADD', K.reservations, now + ttl, reservationId)
redis.call('ZADD', K.pending, now + ttl, reservationId)
redis.call('ZADD', K.userPending, 0, ownedMember(userId, reservationId))
keepFor({K.reservations, K.reservationOwners, K.reservationVictims, K.reservationCommits, K.pending,
  K.userPending}, ttl)
return {'ok', victimsJson}
`);

/**
 * ARGV: now, reservationId, userId, sessionId, record JSON, createdAt, lapse, keepMs, then outbox
 * jobs. Returns 1 (also when this reservation was already committed to this session), or 0 when the
 * reservation is unknown, lapsed, released, or not this user's.
 */
const commit = script(`${keepFor}${owned}${forgetReservation}${enqueueOutbox}
local now, reservationId, userId, sessionId = tonumber(ARGV[1]), ARGV[2], ARGV[3], ARGV[4]
local json, createdAt, lapse, keepMs = ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])

if redis.call('HGET', K.reservationOwners, reservationId) ~= userId then return 0 end
local committed = redis.call('HGET', K.reservationCommits, reservationId)
if committed then
  if committed == sessionId then return 1 end
  return 0
end
local reservedUntil = tonumber(redis.call('ZSCORE', K.pending, reservationId))
if not reservedUntil or reservedUntil <= now then
  forgetReservation(reservationId)
  return 0
end
redis.call('ZREM', K.pending, reservationId)
redis.call('ZREM', K.userPending, ownedMember(userId, reservationId))
redis.call('HSET', K.reservationCommits, reservationId, sessionId)
keepFor({K.reservationCommits}, reservedUntil - now)

local previousOwner = redis.call('HGET', K.owners, sessionId)
if previousOwner and previousOwner ~= userId then
  redis.call('ZREM', K.userSessions, ownedMember(previousOwner, sessionId))
end
redis.call('HSET', K.records, sessionId, json)
redis.call('HSET', K.owners, sessionId, userId)
redis.call('ZADD', K.userSessions, 0, ownedMember(userId, sessionId))
redis.call('ZADD', K.sessions, lapse, sessionId)
redis.call('ZADD', K.byCreated, createdAt, sessionId)
keepFor({K.records, K.owners, K.userSessions, K.sessions, K.byCreated}, keepMs)
enqueueOutbox(9, now)
return 1
`);

/** ARGV: reservationId. */
const release = script(`${forgetReservation}
forgetReservation(ARGV[1])
return 1
`);

/**
 * ARGV: now, sessionId, reason, ownerId ('' = anyone), dueAt, known record JSON ('' = none).
 * Returns the registered record's JSON, or false (not registered, lapsed, or someone else's).
 */
const requestEnd = script(`${liveSession}${queueTermination}
local now, sessionId, reason, ownerId = tonumber(ARGV[1]), ARGV[2], ARGV[3], ARGV[4]
local dueAt, known = tonumber(ARGV[5]), ARGV[6]
local json, owner = liveSession(sessionId, now)
if json then
  if ownerId ~= '' and owner ~= ownerId then return false end
  queueTermination(sessionId, reason, json, dueAt, now)
  return json
end
if ownerId == '' and known ~= '' then queueTermination(sessionId, reason, known, dueAt, now) end
return false
`);

/**
 * ARGV: now, sessionId, then outbox jobs (queued only if there was something to finish).
 * Returns the unregistered record's JSON, or false.
 */
const finishEnd = script(`${ackJob}${unregister}${enqueueOutbox}
local now, sessionId = tonumber(ARGV[1]), ARGV[2]
local acked = ackJob('terminate:' .. sessionId, now)
local json = unregister(sessionId)
if acked == 1 or json then enqueueOutbox(3, now) end
return json
`);

/**
 * ARGV: now, limit, forgetBefore. The record JSONs of registered sessions whose lapse time has
 * passed; one that lapsed before forgetBefore (nobody swept it in time) is forgotten instead.
 */
const lapsedSessions = script(`${unregister}
local now, limit, forgetBefore = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local records = {}
local found = redis.call('ZRANGEBYSCORE', K.sessions, '-inf', now, 'WITHSCORES', 'LIMIT', 0, limit)
for i = 1, #found, 2 do
  local id, lapse = found[i], tonumber(found[i + 1])
  local json = redis.call('HGET', K.records, id)
  if json and lapse >= forgetBefore then records[#records + 1] = json else unregister(id) end
end
return records
`);

/**
 * ARGV: now, sessionId, then outbox jobs. Unregisters the session if it is still registered
 * and lapsed, queueing the jobs in the same step. Returns 1 when it did.
 */
const expireSession = script(`${unregister}${enqueueOutbox}
local now, sessionId = tonumber(ARGV[1]), ARGV[2]
local lapse = tonumber(redis.call('ZSCORE', K.sessions, sessionId))
if not lapse or lapse > now then return 0 end
if not unregister(sessionId) then return 0 end
enqueueOutbox(3, now)
return 1
`);

/** ARGV: now, userId. The user's live records' JSON. */
const listUser = script(`${owned}
local now, userId = tonumber(ARGV[1]), ARGV[2]
local low, high, skip = ownedRange(userId)
local records = {}
for _, member in ipairs(redis.call('ZRANGEBYLEX', K.userSessions, low, high)) do
  local id = member:sub(skip + 1)
  local json = redis.call('HGET', K.records, id)
  local lapse = tonumber(redis.call('ZSCORE', K.sessions, id))
  if json and lapse and lapse > now and redis.call('HGET', K.owners, id) == userId then
    records[#records + 1] = json
  end
end
return records
`);

/** ARGV: now, limit. Live records' JSON, newest first. */
const listAll = script(`
local now, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local records, start, chunk = {}, 0, 200
while #records < limit do
  local ids = redis.call('ZREVRANGE', K.byCreated, start, start + chunk - 1)
  if #ids == 0 then break end
  for _, id in ipairs(ids) do
    local lapse = tonumber(redis.call('ZSCORE', K.sessions, id))
    local json = redis.call('HGET', K.records, id)
    if json and lapse and lapse > now and #records < limit then records[#records + 1] = json end
  end
  start = start + chunk
end
return records
`);

export const registryScripts = {
  reserve,
  commit,
  release,
  requestEnd,
  finishEnd,
  lapsedSessions,
  expireSession,
  listUser,
  listAll,
};
