import { minimumSessionSeconds, warningShare } from '../budgets';

/**
 * The minute budgets' Lua (see ../budgets.ts for the model), shared by the registry's scripts. Keys:
 * - `limits` (hash `user:<id>` / `tenant:<id>` -> overrides JSON; kept until cleared);
 * - `meter-used`, `meter-held` (hashes meter name -> seconds), `meter-flags` (hash
 *   `<meter>|warning` / `<meter>|exhausted` -> 1: each budget event once), `meter-lapse` (zset
 *   meter name -> when it is forgotten, three days after its window);
 * - `holds` (zset hold id -> lapse), `hold-data` (hash hold id -> {seconds, held}): what pending
 *   creates and live sessions hold; settlement releases a hold, and so does its lapse;
 * - `settled` (zset session id -> when its marker is forgotten): each session is charged once;
 * - `usage:<day>:<group>` and `usage-n:<day>:<group>` (hashes key -> seconds / sessions): the
 *   ledger, a pair of keys per day and grouping, named by the caller (KEYS[1..8]) and expiring
 *   USAGE_RETENTION_DAYS after their day.
 */

/** Forgets what a hold holds in its meters. */
export const releaseHold = `
local function releaseHold(id)
  local data = redis.call('HGET', K.holdData, id)
  redis.call('ZREM', K.holds, id)
  if not data then return end
  redis.call('HDEL', K.holdData, id)
  local hold = cjson.decode(data)
  for _, name in ipairs(hold.held) do
    if redis.call('HINCRBY', K.meterHeld, name, -hold.seconds) <= 0 then redis.call('HDEL', K.meterHeld, name) end
  end
end
`;

/** Releases lapsed holds and forgets lapsed meters and settled markers, a few per call. */
export const sweepBudgets = `${releaseHold}
local function sweepBudgets(now)
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', K.holds, '-inf', now, 'LIMIT', 0, 50)) do releaseHold(id) end
  for _, name in ipairs(redis.call('ZRANGEBYSCORE', K.meterLapse, '-inf', now, 'LIMIT', 0, 50)) do
    redis.call('HDEL', K.meterUsed, name)
    redis.call('HDEL', K.meterHeld, name)
    redis.call('HDEL', K.meterFlags, name .. '|warning', name .. '|exhausted')
    redis.call('ZREM', K.meterLapse, name)
  end
  local forgotten = redis.call('ZRANGEBYSCORE', K.settled, '-inf', now, 'LIMIT', 0, 50)
  if #forgotten > 0 then redis.call('ZREM', K.settled, unpack(forgotten)) end
end
`;

/** The run-time overrides of `user:<id>` or `tenant:<id>` (an empty table when none). */
export const overridesOf = `
local function overridesOf(subject)
  local json = redis.call('HGET', K.limits, subject)
  if not json then return {} end
  return cjson.decode(json)
end
`;

/** A meter's name, as meterName in budgets.ts builds it. */
export const meterNameOf = `
local function meterNameOf(scope, id, window, label)
  local w = 'm'
  if window == 'day' then w = 'd' end
  return scope .. ':' .. id .. ':' .. w .. ':' .. label
end
`;

/**
 * The budget check of a reservation, ARGV from index `first`: maxSeconds, day, month, dayEndsAt,
 * monthEndsAt, dayLapse, monthLapse, then the default minutes user day, user month, tenant day,
 * tenant month, service day. `victims` are the records (decoded) this create ends, whose unused
 * holds count as free. Returns nil, scope, window, retryAt when a budget has less than a minute
 * left; otherwise the grant's JSON (also kept for a repeated call) after holding it.
 */
export const holdBudget = `${sweepBudgets}${meterNameOf}
local function holdBudget(first, reservationId, userId, tenantId, userLimits, tenantLimits, victims, now, lapse)
  local maxSeconds, day, month = tonumber(ARGV[first]), ARGV[first + 1], ARGV[first + 2]
  local ends = { day = tonumber(ARGV[first + 3]), month = tonumber(ARGV[first + 4]) }
  local lapses = { day = tonumber(ARGV[first + 5]), month = tonumber(ARGV[first + 6]) }
  local labels = { day = day, month = month }
  local applying = {}
  local function add(scope, id, window, minutes)
    minutes = tonumber(minutes)
    if minutes and minutes > 0 then
      applying[#applying + 1] = { scope = scope, id = id, window = window, label = labels[window],
        name = meterNameOf(scope, id, window, labels[window]), minutes = minutes, endsAt = ends[window] }
    end
  end
  add('user', userId, 'day', userLimits.dailyMinutes or ARGV[first + 7])
  add('user', userId, 'month', userLimits.monthlyMinutes or ARGV[first + 8])
  if tenantId ~= '' then
    add('tenant', tenantId, 'day', tenantLimits.dailyMinutes or ARGV[first + 9])
    add('tenant', tenantId, 'month', tenantLimits.monthlyMinutes or ARGV[first + 10])
  end
  add('service', '', 'day', ARGV[first + 11])

  sweepBudgets(now)
  local left, short = maxSeconds, nil
  for _, m in ipairs(applying) do
    local freed = 0
    for _, victim in ipairs(victims) do
      local charge = victim.charge
      if type(charge) == 'table' then
        for _, name in ipairs(charge.held) do
          if name == m.name then
            local ran = math.ceil((math.min(now, victim.expiresAt) - victim.createdAt) / 1000)
            freed = freed + math.max(0, charge.seconds - math.max(0, ran))
          end
        end
      end
    end
    local used = tonumber(redis.call('HGET', K.meterUsed, m.name) or '0')
    local held = tonumber(redis.call('HGET', K.meterHeld, m.name) or '0')
    local meterLeft = m.minutes * 60 - used - held + freed
    if meterLeft < ${minimumSessionSeconds} and (short == nil or m.endsAt > short.endsAt) then short = m end
    if meterLeft < left then left = meterLeft end
  end
  if short then return nil, short.scope, short.window, short.endsAt end

  local seconds = math.floor(left)
  local held, crossings = {}, {}
  for _, m in ipairs(applying) do
    held[#held + 1] = cjson.encode(m.name)
    local use = redis.call('HINCRBY', K.meterHeld, m.name, seconds) + tonumber(redis.call('HGET', K.meterUsed, m.name) or '0')
    redis.call('ZADD', K.meterLapse, lapses[m.window], m.name)
    for _, level in ipairs({ 'warning', 'exhausted' }) do
      local share = 1
      if level == 'warning' then share = ${warningShare} end
      if use >= share * m.minutes * 60 and redis.call('HSETNX', K.meterFlags, m.name .. '|' .. level, 1) == 1 then
        crossings[#crossings + 1] = cjson.encode({ scope = m.scope, id = m.id, window = m.window, label = m.label,
          level = level, minutes = m.minutes, usedSeconds = use, endsAt = m.endsAt })
      end
    end
  end
  local heldJson = '[' .. table.concat(held, ',') .. ']'
  redis.call('HSET', K.holdData, reservationId, '{"seconds":' .. seconds .. ',"held":' .. heldJson .. '}')
  redis.call('ZADD', K.holds, lapse, reservationId)
  local charge = '{"holdId":' .. cjson.encode(reservationId) .. ',"seconds":' .. seconds .. ',"day":' ..
    cjson.encode(day) .. ',"month":' .. cjson.encode(month) .. ',"held":' .. heldJson .. '}'
  return '{"seconds":' .. seconds .. ',"charge":' .. charge .. ',"crossings":[' .. table.concat(crossings, ',') .. ']}'
end
`;

/**
 * Charges a session once: its hold is released and the seconds it ran (to `endedAt`, at most to its
 * expiresAt) are added to its day's and month's meters and to the day's ledger (KEYS[1..8]: seconds
 * and sessions per user, tenant, profile and day). `lapses` of its day and month meters, `usageTtl`
 * of the ledger keys, `keep` how long the settled marker stays.
 */
export const settle = `${releaseHold}${meterNameOf}
local function settle(recordJson, endedAt, now, dayLapse, monthLapse, usageExpireAt, keep)
  local record = cjson.decode(recordJson)
  local charge = record.charge
  if type(charge) ~= 'table' then return end
  if redis.call('ZSCORE', K.settled, record.sessionId) then return end
  redis.call('ZADD', K.settled, now + keep, record.sessionId)
  releaseHold(charge.holdId)
  local secondsRun = math.max(0, math.ceil((math.min(endedAt, record.expiresAt) - record.createdAt) / 1000))
  local subjects = { { 'user', record.userId }, { 'service', '' } }
  local tenant = record.tenantId
  if type(tenant) == 'string' then subjects[#subjects + 1] = { 'tenant', tenant } end
  for _, subject in ipairs(subjects) do
    for window, label in pairs({ day = charge.day, month = charge.month }) do
      local name = meterNameOf(subject[1], subject[2], window, label)
      redis.call('HINCRBY', K.meterUsed, name, secondsRun)
      local lapse = monthLapse
      if window == 'day' then lapse = dayLapse end
      redis.call('ZADD', K.meterLapse, lapse, name)
    end
  end
  redis.call('HINCRBY', KEYS[1], record.userId, secondsRun)
  redis.call('HINCRBY', KEYS[2], record.userId, 1)
  if type(tenant) == 'string' then
    redis.call('HINCRBY', KEYS[3], tenant, secondsRun)
    redis.call('HINCRBY', KEYS[4], tenant, 1)
  end
  redis.call('HINCRBY', KEYS[5], record.profile, secondsRun)
  redis.call('HINCRBY', KEYS[6], record.profile, 1)
  redis.call('HINCRBY', KEYS[7], charge.day, secondsRun)
  redis.call('HINCRBY', KEYS[8], charge.day, 1)
  -- A key that does not exist (no tenant) is left alone by PEXPIREAT.
  redis.call('PEXPIREAT', KEYS[1], usageExpireAt)
  redis.call('PEXPIREAT', KEYS[2], usageExpireAt)
  redis.call('PEXPIREAT', KEYS[3], usageExpireAt)
  redis.call('PEXPIREAT', KEYS[4], usageExpireAt)
  redis.call('PEXPIREAT', KEYS[5], usageExpireAt)
  redis.call('PEXPIREAT', KEYS[6], usageExpireAt)
  redis.call('PEXPIREAT', KEYS[7], usageExpireAt)
  redis.call('PEXPIREAT', KEYS[8], usageExpireAt)
end
`;
