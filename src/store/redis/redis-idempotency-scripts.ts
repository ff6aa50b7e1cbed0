import { script as defineScript } from './redis-keys';

/** The idempotency key is the caller's: KEYS[1], named per user and key in redis-store.ts. */
const script = (lua: string) => defineScript(lua, 1);

/**
 * KEYS: idempotency key. ARGV: now, fingerprint, pendingTtlMs, attemptId.
 * Returns {'started'} | {'in-progress'} | {'mismatch'} | {'completed', responseJson}.
 */
const idempotencyBegin = script(`
local now, fingerprint, ttl, attempt = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]), ARGV[4]
local cur = redis.call('HMGET', KEYS[1], 'state', 'fingerprint', 'lapse', 'response', 'attempt')
if cur[1] and tonumber(cur[3]) > now then
  if cur[2] ~= fingerprint then return {'mismatch'} end
  if cur[1] == 'completed' then return {'completed', cur[4]} end
  if cur[5] == attempt then return {'started'} end
  return {'in-progress'}
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'state', 'pending', 'fingerprint', fingerprint, 'lapse', now + ttl, 'attempt', attempt)
redis.call('PEXPIRE', KEYS[1], ttl)
return {'started'}
`);

/** KEYS: idempotency key. ARGV: now, response JSON, ttlMs. A lapsed or unknown key stays unknown. */
const idempotencyComplete = script(`
local now, ttl = tonumber(ARGV[1]), tonumber(ARGV[3])
local lapse = tonumber(redis.call('HGET', KEYS[1], 'lapse'))
if not lapse or lapse <= now then return 0 end
redis.call('HSET', KEYS[1], 'state', 'completed', 'response', ARGV[2], 'lapse', now + ttl)
redis.call('PEXPIRE', KEYS[1], ttl)
return 1
`);

/**
 * KEYS: idempotency key. ARGV: attemptId. Forgets it only while pending and started by this
 * attempt, so a late abandon can erase neither a response nor another attempt's key.
 */
const idempotencyAbandon = script(`
local found = redis.call('HMGET', KEYS[1], 'state', 'attempt')
if found[1] == 'pending' and found[2] == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`);

export const idempotencyScripts = { idempotencyBegin, idempotencyComplete, idempotencyAbandon };
