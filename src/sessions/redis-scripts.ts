/**
 * The Lua scripts behind the Redis store. Each runs atomically inside Redis, so every decision
 * (counting slots, evicting, consuming a reservation, removing a session) is taken against data no
 * other replica can change halfway. Times are epoch ms passed in from the caller's clock; sorted-set
 * scores hold lapse times, and key TTLs (relative to the same clock) only collect garbage.
 *
 * Session record keys are hashes: `record` (the JSON SessionRecord) and `owner` (the name of the
 * owner's sessions sorted set), so a script can find the owner's index without rebuilding key names.
 * A reservation key holds the name of the owner's pending sorted set for the same reason.
 */

export interface ScriptDefinition {
  numberOfKeys: number;
  lua: string;
}

/** Extends a key's TTL to at least `ms` (never shortens it): garbage collection for index sets. */
const keepFor = `
local function keepFor(key, ms)
  ms = math.max(math.floor(ms), 1)
  if redis.call('PTTL', key) < ms then redis.call('PEXPIRE', key, ms) end
end
`;

/**
 * KEYS: user sessions, user pending, all sessions, all pending, new reservation key.
 * ARGV: now, perUserCap, globalCap, policy, reservationId, reservationTtlMs, session key prefix.
 * Returns {'ok', evictedRecordJson...} or {'user-cap'} or {'global-cap'}.
 */
const reserve: ScriptDefinition = {
  numberOfKeys: 5,
  lua: `${keepFor}
local userSessions, userPending, allSessions, allPending, reservationKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local now = tonumber(ARGV[1])
local perUserCap, globalCap, policy = tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local reservationId, ttl, sessionPrefix = ARGV[5], tonumber(ARGV[6]), ARGV[7]

for _, key in ipairs({userSessions, userPending, allSessions, allPending}) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
end

-- A member whose record is gone (or now belongs to another user) is not a live session of this user.
local live = {}
for _, id in ipairs(redis.call('ZRANGE', userSessions, 0, -1)) do
  local found = redis.call('HMGET', sessionPrefix .. id, 'record', 'owner')
  local json = found[1]
  if json and found[2] == userSessions then
    live[#live + 1] = { id = id, json = json, createdAt = cjson.decode(json).createdAt }
  else
    redis.call('ZREM', userSessions, id)
    if not json then redis.call('ZREM', allSessions, id) end
  end
end

local userCount = #live + redis.call('ZCARD', userPending)
local globalCount = redis.call('ZCARD', allSessions) + redis.call('ZCARD', allPending)
local evictCount = 0
if userCount >= perUserCap then
  evictCount = userCount - perUserCap + 1
  if policy ~= 'replace-oldest' or evictCount > #live then return {'user-cap'} end
end
if globalCap > 0 and globalCount - evictCount >= globalCap then return {'global-cap'} end

table.sort(live, function(a, b)
  if a.createdAt ~= b.createdAt then return a.createdAt < b.createdAt end
  return a.id < b.id
end)
local reply = {'ok'}
for i = 1, evictCount do
  local victim = live[i]
  redis.call('DEL', sessionPrefix .. victim.id)
  redis.call('ZREM', userSessions, victim.id)
  redis.call('ZREM', allSessions, victim.id)
  reply[#reply + 1] = victim.json
end

redis.call('ZADD', userPending, now + ttl, reservationId)
redis.call('ZADD', allPending, now + ttl, reservationId)
redis.call('SET', reservationKey, userPending, 'PX', ttl)
keepFor(userPending, ttl)
keepFor(allPending, ttl)
return reply
`,
};

/**
 * KEYS: reservation key, user pending, all pending, user sessions, all sessions, session key.
 * ARGV: now, reservationId, sessionId, record JSON, session lapse time.
 * Returns 1, or 0 when the reservation is unknown, lapsed or not the record owner's.
 */
const commit: ScriptDefinition = {
  numberOfKeys: 6,
  lua: `${keepFor}
local reservationKey, userPending, allPending, userSessions, allSessions, sessionKey =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local now, reservationId, sessionId, json, lapse = tonumber(ARGV[1]), ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])

if redis.call('GET', reservationKey) ~= userPending then return 0 end
local reservedUntil = tonumber(redis.call('ZSCORE', userPending, reservationId))
redis.call('DEL', reservationKey)
redis.call('ZREM', userPending, reservationId)
redis.call('ZREM', allPending, reservationId)
if not reservedUntil or reservedUntil <= now then return 0 end

redis.call('HSET', sessionKey, 'record', json, 'owner', userSessions)
keepFor(sessionKey, lapse - now)
redis.call('ZADD', userSessions, lapse, sessionId)
redis.call('ZADD', allSessions, lapse, sessionId)
keepFor(userSessions, lapse - now)
keepFor(allSessions, lapse - now)
return 1
`,
};

/** KEYS: reservation key, all pending. ARGV: reservationId. */
const release: ScriptDefinition = {
  numberOfKeys: 2,
  lua: `
local userPending = redis.call('GET', KEYS[1])
if userPending then redis.call('ZREM', userPending, ARGV[1]) end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[1])
return 1
`,
};

/**
 * KEYS: session key, all sessions. ARGV: now, sessionId, required owner's sessions key ('' = any).
 * Returns the removed record JSON, or nil when absent, lapsed or someone else's.
 */
const remove: ScriptDefinition = {
  numberOfKeys: 2,
  lua: `
local sessionKey, allSessions = KEYS[1], KEYS[2]
local now, sessionId, requiredOwner = tonumber(ARGV[1]), ARGV[2], ARGV[3]
local found = redis.call('HMGET', sessionKey, 'record', 'owner')
local json, owner = found[1], found[2]
if not json then return false end
if requiredOwner ~= '' and owner ~= requiredOwner then return false end
local lapse = tonumber(redis.call('ZSCORE', owner, sessionId))
redis.call('DEL', sessionKey)
redis.call('ZREM', owner, sessionId)
redis.call('ZREM', allSessions, sessionId)
if not lapse or lapse <= now then return false end
return json
`,
};

/** KEYS: user sessions. ARGV: now, session key prefix. Returns the live records' JSON. */
const listUser: ScriptDefinition = {
  numberOfKeys: 1,
  lua: `
local records = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf')) do
  local found = redis.call('HMGET', ARGV[2] .. id, 'record', 'owner')
  if found[1] and found[2] == KEYS[1] then records[#records + 1] = found[1] end
end
return records
`,
};

/**
 * KEYS: idempotency key. ARGV: now, fingerprint, pendingTtlMs.
 * Returns nil when this call started the key, else {state, fingerprint, response}.
 */
const idempotencyBegin: ScriptDefinition = {
  numberOfKeys: 1,
  lua: `
local now, ttl = tonumber(ARGV[1]), tonumber(ARGV[3])
local cur = redis.call('HMGET', KEYS[1], 'state', 'fingerprint', 'lapse', 'response')
if cur[1] and tonumber(cur[3]) > now then return {cur[1], cur[2], cur[4]} end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'state', 'pending', 'fingerprint', ARGV[2], 'lapse', now + ttl)
redis.call('PEXPIRE', KEYS[1], ttl)
return false
`,
};

/** KEYS: idempotency key. ARGV: now, response JSON, ttlMs. A lapsed or unknown key stays unknown. */
const idempotencyComplete: ScriptDefinition = {
  numberOfKeys: 1,
  lua: `
local now, ttl = tonumber(ARGV[1]), tonumber(ARGV[3])
local lapse = tonumber(redis.call('HGET', KEYS[1], 'lapse'))
if not lapse or lapse <= now then return 0 end
redis.call('HSET', KEYS[1], 'state', 'completed', 'response', ARGV[2], 'lapse', now + ttl)
redis.call('PEXPIRE', KEYS[1], ttl)
return 1
`,
};

/** KEYS: idempotency key. Forgets it only while pending, so a late abandon cannot erase a response. */
const idempotencyAbandon: ScriptDefinition = {
  numberOfKeys: 1,
  lua: `
if redis.call('HGET', KEYS[1], 'state') == 'pending' then redis.call('DEL', KEYS[1]) end
return 1
`,
};

export const redisScripts = {
  reserve,
  commit,
  release,
  remove,
  listUser,
  idempotencyBegin,
  idempotencyComplete,
  idempotencyAbandon,
} satisfies Record<string, ScriptDefinition>;

export type RedisScriptName = keyof typeof redisScripts;
