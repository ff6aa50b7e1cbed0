import { ackJob, enqueueOutbox, keepFor, liveSession, queueTermination, unregister } from './redis-lua';

export interface ScriptDefinition {
  numberOfKeys: number;
  lua: string;
}

const script = (lua: string): ScriptDefinition => ({ numberOfKeys: 0, lua });

/**
 * ARGV: prefix, now, userId, reservationId, perUserCap, globalCap, policy, ttlMs, evictionGraceMs.
 * Returns {'ok', victimsJson} (also when the reservation exists already: a repeated call),
 * or {'user-cap'} or {'global-cap'}.
 */
const reserve = script(`${keepFor}${queueTermination}
local P, now, userId, reservationId = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local perUserCap, globalCap, policy = tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7]
local ttl, grace = tonumber(ARGV[8]), tonumber(ARGV[9])
local reservationKey = P .. 'reservation:' .. reservationId
local userSessions, userPending = P .. 'user-sessions:' .. userId, P .. 'user-pending:' .. userId

local existing = redis.call('HMGET', reservationKey, 'owner', 'victims')
if existing[1] then
  if existing[1] ~= userPending then return redis.error_reply('reservation id reused for another user') end
  return {'ok', existing[2]}
end

redis.call('ZREMRANGEBYSCORE', userPending, '-inf', now)
redis.call('ZREMRANGEBYSCORE', P .. 'pending', '-inf', now)

-- A member whose record now belongs to another user is not this user's session.
local live = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', userSessions, '(' .. now, '+inf')) do
  local found = redis.call('HMGET', P .. 'session:' .. id, 'record', 'owner')
  if found[1] and found[2] == userSessions then
    local ending = redis.call('EXISTS', P .. 'q:job:terminate:' .. id)
    live[#live + 1] = { id = id, json = found[1], createdAt = cjson.decode(found[1]).createdAt, ending = ending }
  else
    redis.call('ZREM', userSessions, id)
  end
end

local userCount = #live + redis.call('ZCARD', userPending)
local globalCount = redis.call('ZCOUNT', P .. 'sessions', '(' .. now, '+inf') + redis.call('ZCARD', P .. 'pending')
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
  queueTermination(P, live[i].id, 'replaced', live[i].json, now + grace)
  victims[#victims + 1] = live[i].json
end
local victimsJson = '[' .. table.concat(victims, ',') .. ']'

redis.call('HSET', reservationKey, 'owner', userPending, 'victims', victimsJson)
redis.call('PEXPIRE', reservationKey, ttl)
redis.call('ZADD', userPending, now + ttl, reservationId)
redis.call('ZADD', P .. 'pending', now + ttl, reservationId)
keepFor(userPending, ttl)
keepFor(P .. 'pending', ttl)
return {'ok', victimsJson}
`);

/**
 * ARGV: prefix, now, reservationId, userId, sessionId, record JSON, createdAt, lapse, keepMs,
 * then outbox jobs. Returns 1 (also when this reservation was already committed to this session),
 * or 0 when the reservation is unknown, lapsed, released, or not this user's.
 */
const commit = script(`${keepFor}${enqueueOutbox}
local P, now, reservationId, userId, sessionId = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5]
local json, createdAt, lapse, keepMs = ARGV[6], tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local reservationKey = P .. 'reservation:' .. reservationId
local userPending, userSessions = P .. 'user-pending:' .. userId, P .. 'user-sessions:' .. userId

local found = redis.call('HMGET', reservationKey, 'owner', 'committed')
if found[1] ~= userPending then return 0 end
if found[2] then
  if found[2] == sessionId then return 1 end
  return 0
end
local reservedUntil = tonumber(redis.call('ZSCORE', userPending, reservationId))
redis.call('ZREM', userPending, reservationId)
redis.call('ZREM', P .. 'pending', reservationId)
if not reservedUntil or reservedUntil <= now then
  redis.call('DEL', reservationKey)
  return 0
end
redis.call('HSET', reservationKey, 'committed', sessionId)

local sessionKey = P .. 'session:' .. sessionId
local previousOwner = redis.call('HGET', sessionKey, 'owner')
if previousOwner and previousOwner ~= userSessions then redis.call('ZREM', previousOwner, sessionId) end
redis.call('HSET', sessionKey, 'record', json, 'owner', userSessions)
redis.call('PEXPIRE', sessionKey, keepMs)
redis.call('ZADD', userSessions, lapse, sessionId)
redis.call('ZADD', P .. 'sessions', lapse, sessionId)
redis.call('ZADD', P .. 'by-created', createdAt, sessionId)
for _, key in ipairs({userSessions, P .. 'sessions', P .. 'by-created'}) do keepFor(key, keepMs) end
enqueueOutbox(P, 10)
return 1
`);

/** ARGV: prefix, reservationId. */
const release = script(`
local P, reservationId = ARGV[1], ARGV[2]
local reservationKey = P .. 'reservation:' .. reservationId
local owner = redis.call('HGET', reservationKey, 'owner')
if owner then redis.call('ZREM', owner, reservationId) end
redis.call('ZREM', P .. 'pending', reservationId)
redis.call('DEL', reservationKey)
return 1
`);

/**
 * ARGV: prefix, now, sessionId, reason, ownerId ('' = anyone), dueAt, known record JSON ('' = none).
 * Returns the registered record's JSON, or false (not registered, lapsed, or someone else's).
 */
const requestEnd = script(`${liveSession}${queueTermination}
local P, now, sessionId, reason, ownerId = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5]
local dueAt, known = tonumber(ARGV[6]), ARGV[7]
local json, owner = liveSession(P, sessionId, now)
if json then
  if ownerId ~= '' and owner ~= P .. 'user-sessions:' .. ownerId then return false end
  queueTermination(P, sessionId, reason, json, dueAt)
  return json
end
if ownerId == '' and known ~= '' then queueTermination(P, sessionId, reason, known, dueAt) end
return false
`);

/**
 * ARGV: prefix, now, sessionId, then outbox jobs (queued only if there was something to finish).
 * Returns the unregistered record's JSON, or false.
 */
const finishEnd = script(`${ackJob}${unregister}${enqueueOutbox}
local P, now, sessionId = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local acked = ackJob(P, 'terminate:' .. sessionId, now)
local json = unregister(P, sessionId)
if acked == 1 or json then enqueueOutbox(P, 4) end
return json
`);

/** ARGV: prefix, now, limit. The record JSONs of registered sessions whose lapse time has passed. */
const lapsedSessions = script(`
local P, now, limit = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local records = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'sessions', '-inf', now, 'LIMIT', 0, limit)) do
  local json = redis.call('HGET', P .. 'session:' .. id, 'record')
  if json then records[#records + 1] = json else redis.call('ZREM', P .. 'sessions', id) end
end
return records
`);

/**
 * ARGV: prefix, now, sessionId, then outbox jobs. Unregisters the session if it is still registered
 * and lapsed, queueing the jobs in the same step. Returns 1 when it did.
 */
const expireSession = script(`${unregister}${enqueueOutbox}
local P, now, sessionId = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local lapse = tonumber(redis.call('ZSCORE', P .. 'sessions', sessionId))
if not lapse or lapse > now then return 0 end
if not unregister(P, sessionId) then return 0 end
enqueueOutbox(P, 4)
return 1
`);

/** ARGV: prefix, now, userId. The user's live records' JSON. */
const listUser = script(`
local P, now, userId = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local userSessions = P .. 'user-sessions:' .. userId
local records = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', userSessions, '(' .. now, '+inf')) do
  local found = redis.call('HMGET', P .. 'session:' .. id, 'record', 'owner')
  if found[1] and found[2] == userSessions then records[#records + 1] = found[1] end
end
return records
`);

/** ARGV: prefix, now, limit. Live records' JSON, newest first. */
const listAll = script(`
local P, now, limit = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local records, start, chunk = {}, 0, 200
while #records < limit do
  local ids = redis.call('ZREVRANGE', P .. 'by-created', start, start + chunk - 1)
  if #ids == 0 then break end
  for _, id in ipairs(ids) do
    local lapse = tonumber(redis.call('ZSCORE', P .. 'sessions', id))
    local json = redis.call('HGET', P .. 'session:' .. id, 'record')
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
