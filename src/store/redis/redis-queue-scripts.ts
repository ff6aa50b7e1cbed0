import { script } from './redis-keys';
import { ackJob, dropLapsedEvents, dueKey, enqueueOutbox, partitionHead } from './redis-lua';

/** ARGV: now, the event cap, then id, topic, partition, payload JSON, dropAt, dueAt per job. */
const enqueue = script(`${enqueueOutbox}
enqueueOutbox(2, tonumber(ARGV[1]))
return 1
`);

/**
 * ARGV: now, limit, leaseMs, then the topics to claim, in order. Leases up to `limit` due
 * partitions and returns their head jobs, flattened: id, topic, partition, payload, dropAt, attempts
 * for each. Each topic's due set is read on its own, so the first topics are served first.
 */
const claim = script(`${dueKey}${partitionHead}${dropLapsedEvents}
local now, limit, lease = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
dropLapsedEvents(now, 20)
local out = {}
local claimed = 0
for t = 4, #ARGV do
  local topic = ARGV[t]
  if claimed >= limit then break end
  for _, partition in ipairs(redis.call('ZRANGEBYSCORE', dueKey(topic), '-inf', now, 'LIMIT', 0, limit - claimed)) do
    local id, member = partitionHead(partition)
    local header = id and redis.call('HGET', K.jobs, id)
    if not id then
      redis.call('ZREM', dueKey(topic), partition)
    elseif not header then
      -- A member whose job is gone (never expected): skip it; the partition's next job is due at once.
      redis.call('ZREM', K.fifo, member)
    else
      local job = cjson.decode(header)
      if job.topic ~= topic then
        -- The partition's head job is of another topic: it is due in that topic's set, at once.
        redis.call('ZREM', dueKey(topic), partition)
        redis.call('ZADD', dueKey(job.topic), 'NX', now, partition)
      else
        redis.call('ZADD', dueKey(topic), now + lease, partition)
        claimed = claimed + 1
        local payload = redis.call('HGET', K.payloads, id)
        local attempts = redis.call('HGET', K.attempts, id)
        for _, value in ipairs({id, job.topic, job.partition, payload, job.dropAt, attempts}) do
          out[#out + 1] = value
        end
      end
    end
  end
end
return out
`);

/** ARGV: id, now. */
const ack = script(`${ackJob}
return ackJob(ARGV[1], tonumber(ARGV[2]))
`);

/** ARGV: id, dueAt. Counts the failed attempt; the partition is due again at dueAt. */
const retry = script(`${dueKey}${partitionHead}
local id, dueAt = ARGV[1], tonumber(ARGV[2])
local header = redis.call('HGET', K.jobs, id)
if not header then return 0 end
local job = cjson.decode(header)
redis.call('HINCRBY', K.attempts, id, 1)
if partitionHead(job.partition) == id then
  redis.call('ZADD', dueKey(job.topic), 'XX', dueAt, job.partition)
end
return 1
`);

export const queueScripts = { enqueue, claim, ack, retry };
