import { ackJob, dueKey, enqueueOutbox } from './redis-lua';
import type { ScriptDefinition } from './redis-registry-scripts';

const script = (lua: string): ScriptDefinition => ({ numberOfKeys: 0, lua });

/** ARGV: prefix, the event cap, then id, topic, partition, payload JSON, dropAt, dueAt. */
const enqueue = script(`${enqueueOutbox}
enqueueOutbox(ARGV[1], 2)
return 1
`);

/**
 * ARGV: prefix, now, limit, leaseMs, then the topics to claim, in order. Leases up to `limit` due
 * partitions and returns their head jobs, flattened: id, topic, partition, payload, dropAt, attempts
 * for each. Each topic's due set is read on its own, so the first topics are served first.
 */
const claim = script(`${dueKey}
local P, now, limit, lease = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local out = {}
local claimed = 0
for t = 5, #ARGV do
  local due = dueKey(P, ARGV[t])
  if claimed >= limit then break end
  for _, partition in ipairs(redis.call('ZRANGEBYSCORE', due, '-inf', now, 'LIMIT', 0, limit - claimed)) do
    local list = P .. 'q:jobs:' .. partition
    local id = redis.call('LINDEX', list, 0)
    local job = id and redis.call('HMGET', P .. 'q:job:' .. id, 'topic', 'partition', 'payload', 'dropAt', 'attempts')
    if not id then
      redis.call('ZREM', due, partition)
    elseif not job[1] then
      -- A job id whose job is gone (an event past its key's TTL): skip it, and the partition's next
      -- job is due at once.
      redis.call('LPOP', list)
      if redis.call('ZREM', P .. 'q:events', id) == 1 then redis.call('HINCRBY', P .. 'q:depth', 'event', -1) end
      if redis.call('LLEN', list) == 0 then redis.call('ZREM', due, partition) end
    elseif job[1] ~= ARGV[t] then
      -- Queued before events had a due set of their own: move it there, due at once.
      redis.call('ZREM', due, partition)
      redis.call('ZADD', dueKey(P, job[1]), 'NX', now, partition)
    else
      redis.call('ZADD', due, now + lease, partition)
      claimed = claimed + 1
      for _, value in ipairs({id, job[1], job[2], job[3], job[4], job[5]}) do out[#out + 1] = value end
    end
  end
end
return out
`);

/** ARGV: prefix, id, now. */
const ack = script(`${ackJob}
return ackJob(ARGV[1], ARGV[2], tonumber(ARGV[3]))
`);

/** ARGV: prefix, id, dueAt. Counts the failed attempt; the partition is due again at dueAt. */
const retry = script(`${dueKey}
local P, id, dueAt = ARGV[1], ARGV[2], tonumber(ARGV[3])
local jobKey = P .. 'q:job:' .. id
local found = redis.call('HMGET', jobKey, 'topic', 'partition')
if not found[1] then return 0 end
redis.call('HINCRBY', jobKey, 'attempts', 1)
if redis.call('LINDEX', P .. 'q:jobs:' .. found[2], 0) == id then
  redis.call('ZADD', dueKey(P, found[1]), 'XX', dueAt, found[2])
end
return 1
`);

export const queueScripts = { enqueue, claim, ack, retry };
