import { holdBudget, overridesOf, settle } from './redis-budget-lua';
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

/** How long a settled session's marker stays, so that a late repeat of its settlement is a no-op. */
const settledKeepMs = 2 * 86_400_000;

/** Lapsed reservations reserve forgets per call (each is forgotten once: the cost is spread). */
const reservationsForgottenPerCall = 100;

/** Arguments of reserve before the budget's (see holdBudget). */
export const reserveBudgetArgvStart = 12;

/**
 * ARGV: now, userId, reservationId, perUserCap, globalCap, policy, ttlMs, evictionGraceMs, tenantId
 * ('' = none), tenantCap, budget ('1' = check and hold one, with holdBudget's arguments from
 * reserveBudgetArgvStart on). Returns {'ok', victimsJson, grantJson or '', the data-loss marker
 * ('' when none is set; see epochMarker)} (also when the
 * reservation exists already: a repeated call), {'user-cap'}, {'tenant-cap'}, {'global-cap'}, or
 * {'budget', scope, window, retryAt}.
 */
const reserve = script(`${keepFor}${owned}${forgetReservation}${queueTermination}${overridesOf}${holdBudget}
local now, userId, reservationId = tonumber(ARGV[1]), ARGV[2], ARGV[3]
local perUserCap, globalCap, policy = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
local ttl, grace = tonumber(ARGV[7]), tonumber(ARGV[8])
local tenantId, tenantCap, withBudget = ARGV[9], tonumber(ARGV[10]), ARGV[11] == '1'

local lapsed = redis.call('ZRANGEBYSCORE', K.reservations, '-inf', now, 'LIMIT', 0, ${reservationsForgottenPerCall})
for _, id in ipairs(lapsed) do forgetReservation(id) end

local owner = redis.call('HGET', K.reservationOwners, reservationId)
if owner then
  if owner ~= userId then return redis.error_reply('reservation id reused for another user') end
  return {'ok', redis.call('HGET', K.reservationVictims, reservationId),
    redis.call('HGET', K.reservationGrants, reservationId) or '', redis.call('GET', K.epoch) or ''}
end
local userLimits = overridesOf('user:' .. userId)
perUserCap = tonumber(userLimits.maxSessions) or perUserCap

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
local tenantLimits = {}
if tenantId ~= '' then
  tenantLimits = overridesOf('tenant:' .. tenantId)
  local cap = tonumber(tenantLimits.maxSessions) or tenantCap
  if cap > 0 then
    local tlow, thigh, tskip = ownedRange(tenantId)
    local tenantCount = redis.call('ZLEXCOUNT', K.tenantSessions, tlow, thigh)
    for _, member in ipairs(redis.call('ZRANGEBYLEX', K.tenantPending, tlow, thigh)) do
      local lapse = tonumber(redis.call('ZSCORE', K.pending, member:sub(tskip + 1)))
      if lapse and lapse > now then tenantCount = tenantCount + 1 end
    end
    if tenantCount - evictCount >= cap then return {'tenant-cap'} end
  end
end
if globalCap > 0 and globalCount - evictCount >= globalCap then return {'global-cap'} end

table.sort(live, function(a, b)
  if a.ending ~= b.ending then return a.ending > b.ending end
  if a.createdAt ~= b.createdAt then return a.createdAt < b.createdAt end
  return a.id < b.id
end)
local grantJson = ''
if withBudget then
  local evicted = {}
  for i = 1, evictCount do evicted[i] = cjson.decode(live[i].json) end
  local granted, scope, window, retryAt = holdBudget(${reserveBudgetArgvStart}, reservationId, userId, tenantId,
    userLimits, tenantLimits, evicted, now, now + ttl)
  if not granted then return {'budget', scope, window, string.format('%d', retryAt)} end
  grantJson = granted
  redis.call('HSET', K.reservationGrants, reservationId, grantJson)
end
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
if tenantId ~= '' then
  redis.call('HSET', K.reservationTenants, reservationId, tenantId)
  redis.call('ZADD', K.tenantPending, 0, ownedMember(tenantId, reservationId))
end
keepFor({K.reservations, K.reservationOwners, K.reservationVictims, K.reservationCommits, K.pending,
  K.userPending, K.reservationTenants, K.reservationGrants, K.tenantPending}, ttl)
return {'ok', victimsJson, grantJson, redis.call('GET', K.epoch) or ''}
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
local tenant = redis.call('HGET', K.reservationTenants, reservationId)
if tenant then redis.call('ZREM', K.tenantPending, ownedMember(tenant, reservationId)) end
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
local recordTenant = cjson.decode(json).tenantId
if type(recordTenant) == 'string' then
  redis.call('ZADD', K.tenantSessions, 0, ownedMember(recordTenant, sessionId))
end
-- The session keeps the reservation's budget hold until it is settled (or lapses with it).
if redis.call('ZSCORE', K.holds, reservationId) then redis.call('ZADD', K.holds, lapse, reservationId) end
keepFor({K.records, K.owners, K.userSessions, K.sessions, K.byCreated, K.tenantSessions, K.holds,
  K.holdData, K.meterHeld, K.meterUsed, K.meterFlags, K.meterLapse, K.settled}, keepMs)
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

/** Arguments a settlement takes, after now and the session id (see settlementArgs in redis-store.ts). */
export const settlementArgvCount = 6;

/**
 * KEYS: the eight ledger keys of the session's day (see settle). ARGV: now, sessionId, then the
 * settlement's: settle ('1' or '0'), endedAt, the record JSON to charge when it is not registered
 * ('' = none), dayLapse, monthLapse, usageExpireAt; then outbox jobs (queued only if there was
 * something to finish). Returns the unregistered record's JSON, or false.
 */
const finishEnd = script(
  `${ackJob}${unregister}${enqueueOutbox}${settle}
local now, sessionId = tonumber(ARGV[1]), ARGV[2]
local acked = ackJob('terminate:' .. sessionId, now)
local json = unregister(sessionId)
if acked == 1 or json then enqueueOutbox(${3 + settlementArgvCount}, now) end
local charged = json or (ARGV[5] ~= '' and ARGV[5]) or nil
if ARGV[3] == '1' and charged then
  settle(charged, tonumber(ARGV[4]), now, tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]), ${settledKeepMs})
end
return json
`,
  8,
);

/**
 * ARGV: now, limit. The record JSONs of registered sessions whose lapse time has passed (however
 * long ago: each is settled when it is expired); an id without a record is dropped from the index.
 */
const lapsedSessions = script(`${unregister}
local now, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local records = {}
local found = redis.call('ZRANGEBYSCORE', K.sessions, '-inf', now, 'WITHSCORES', 'LIMIT', 0, limit)
for i = 1, #found, 2 do
  local id, lapse = found[i], tonumber(found[i + 1])
  local json = redis.call('HGET', K.records, id)
  if json then records[#records + 1] = json else unregister(id) end
end
return records
`);

/**
 * KEYS: the eight ledger keys of the session's day. ARGV: now, sessionId, dayLapse, monthLapse,
 * usageExpireAt, then outbox jobs. Unregisters the session if it is still registered and lapsed,
 * settling it (it ran to its expiresAt) and queueing the jobs in the same step. Returns 1 when it did.
 */
const expireSession = script(
  `${unregister}${enqueueOutbox}${settle}
local now, sessionId = tonumber(ARGV[1]), ARGV[2]
local lapse = tonumber(redis.call('ZSCORE', K.sessions, sessionId))
if not lapse or lapse > now then return 0 end
local json = unregister(sessionId)
if not json then return 0 end
settle(json, cjson.decode(json).expiresAt, now, tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), ${settledKeepMs})
enqueueOutbox(6, now)
return 1
`,
  8,
);

/** ARGV: now, tenantId. The tenant's live records' JSON. */
const listTenant = script(`${owned}
local now, tenantId = tonumber(ARGV[1]), ARGV[2]
local low, high, skip = ownedRange(tenantId)
local records = {}
for _, member in ipairs(redis.call('ZRANGEBYLEX', K.tenantSessions, low, high)) do
  local id = member:sub(skip + 1)
  local json = redis.call('HGET', K.records, id)
  local lapse = tonumber(redis.call('ZSCORE', K.sessions, id))
  if json and lapse and lapse > now then records[#records + 1] = json end
end
return records
`);

/**
 * ARGV: subject (\`user:<id>\` or \`tenant:<id>\`), then field/value pairs ('' clears a field).
 * Returns the overrides now in force, as JSON.
 */
const setLimits = script(`${overridesOf}
local subject = ARGV[1]
local current = overridesOf(subject)
for i = 2, #ARGV, 2 do
  if ARGV[i + 1] == '' then current[ARGV[i]] = nil else current[ARGV[i]] = tonumber(ARGV[i + 1]) end
end
if next(current) == nil then
  redis.call('HDEL', K.limits, subject)
  return '{}'
end
local json = cjson.encode(current)
redis.call('HSET', K.limits, subject, json)
return json
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
  listTenant,
  listAll,
  setLimits,
};
