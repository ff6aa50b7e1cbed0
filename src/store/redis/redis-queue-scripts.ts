import { ackJob, enqueueJob } from './redis-lua';
import type { ScriptDefinition } from './redis-registry-scripts';

const script = (lua: string): ScriptDefinition => ({ numberOfKeys: 0, lua });

/** ARGV: prefix, id, topic, partition, payload JSON, dropAt, dueAt. */
const enqueue = script(`${enqueueJob}
return enqueueJob(ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7])
`);

/**
 * ARGV: prefix, now, limit, leaseMs. Leases up to `limit` due partitions and returns their head
 * jobs, flattened: id, topic, partition, payload, dropAt, attempts for each.
 */
const claim = script(`
local P, now, limit, lease = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local out = {}
for _, partition in ipairs(redis.call('ZRANGEBYSCORE', P .. 'q:due', '-inf', now, 'LIMIT', 0, limit)) do
  local list = P .. 'q:jobs:' .. partition
  local id = redis.call('LINDEX', list, 0)
  local job = id and redis.call('HMGET', P .. 'q:job:' .. id, 'topic', 'partition', 'payload', 'dropAt', 'attempts')
  if not id then
    redis.call('ZREM', P .. 'q:due', partition)
  elseif not job[1] then
    -- A job id whose job is gone: skip it, and the partition's next job is due at once.
    redis.call('LPOP', list)
    if redis.call('LLEN', list) == 0 then redis.call('ZREM', P .. 'q:due', partition) end
  else
    redis.call('ZADD', P .. 'q:due', now + lease, partition)
    for _, value in ipairs({id, job[1], job[2], job[3], job[4], job[5]}) do out[#out + 1] = value end
  end
end
return out
`);

/** ARGV: prefix, id, now. */
const ack = script(`${ackJob}
return ackJob(ARGV[1], ARGV[2], tonumber(ARGV[3]))
`);

/** ARGV: prefix, id, dueAt. Counts the failed attempt; the partition is due again at dueAt. */
const retry = script(`
local P, id, dueAt = ARGV[1], ARGV[2], tonumber(ARGV[3])
local jobKey = P .. 'q:job:' .. id
local partition = redis.call('HGET', jobKey, 'partition')
if not partition then return 0 end
redis.call('HINCRBY', jobKey, 'attempts', 1)
if redis.call('LINDEX', P .. 'q:jobs:' .. partition, 0) == id then
  redis.call('ZADD', P .. 'q:due', 'XX', dueAt, partition)
end
return 1
`);

export const queueScripts = { enqueue, claim, ack, retry };
