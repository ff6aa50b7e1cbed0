import { MinHeap } from './min-heap';
import { JOB_TOPICS, type Job, type JobTopic, type NewJob } from '../ports';

interface Partition {
  topic: JobTopic;
  /** When its head job may next be claimed. */
  dueAt: number;
  jobIds: string[];
}

/**
 * The durable queue's in-process twin (no REDIS_URL): partitions of FIFO jobs, one heap of
 * partitions by due time per topic. Synchronous, so the memory store can queue work in the same
 * step as a registry change. At most `maxEvents` event jobs are kept: beyond it the oldest is
 * dropped and counted; terminations are never dropped.
 */
export function createMemoryQueue(now: () => number, maxEvents: number) {
  const jobs = new Map<string, Job>();
  const partitions = new Map<string, Partition>();
  const due = Object.fromEntries(JOB_TOPICS.map((topic) => [topic, new MinHeap<string>()])) as Record<
    JobTopic,
    MinHeap<string>
  >;
  const depth = Object.fromEntries(JOB_TOPICS.map((topic) => [topic, 0])) as Record<JobTopic, number>;
  /** Event job ids, oldest first (a Set keeps insertion order). */
  const events = new Set<string>();
  let dropped = 0;

  function schedule(name: string, partition: Partition, at: number): void {
    partition.dueAt = at;
    const heap = due[partition.topic];
    heap.push(at, name);
    // Stale entries leave the heap only when claimed; while nothing is claimed (a receiver that is
    // down), rebuild it once they outnumber the live ones, so that dropped events leave no trace.
    if (heap.size > 2 * partitions.size + 1_024) {
      heap.clear();
      for (const [key, each] of partitions) if (each.topic === partition.topic) heap.push(each.dueAt, key);
    }
  }

  function remove(jobId: string): void {
    const job = jobs.get(jobId);
    if (!job) return;
    jobs.delete(jobId);
    events.delete(jobId);
    depth[job.topic] -= 1;
    const partition = partitions.get(job.partition);
    if (!partition) return;
    partition.jobIds = partition.jobIds.filter((id) => id !== jobId);
    if (partition.jobIds.length === 0) partitions.delete(job.partition);
    else schedule(job.partition, partition, now());
  }

  function claimTopic(topic: JobTopic, limit: number, leaseMs: number, claimed: Job[]): void {
    const at = now();
    while (claimed.length < limit) {
      const entry = due[topic].popDue(at);
      if (!entry) break;
      const partition = partitions.get(entry.key);
      // Stale: the partition is gone, or was rescheduled since this entry was pushed.
      if (!partition || partition.dueAt !== entry.at) continue;
      const job = jobs.get(partition.jobIds[0] ?? '');
      if (!job) continue;
      schedule(entry.key, partition, at + leaseMs);
      claimed.push(structuredClone(job));
    }
  }

  return {
    has: (jobId: string) => jobs.has(jobId),

    enqueue(job: NewJob): void {
      if (jobs.has(job.id)) return;
      const { dueAt, ...rest } = job;
      jobs.set(job.id, { ...structuredClone(rest), attempts: 0 });
      depth[job.topic] += 1;
      const partition = partitions.get(job.partition);
      if (partition) partition.jobIds.push(job.id);
      else {
        const fresh = { topic: job.topic, dueAt, jobIds: [job.id] };
        partitions.set(job.partition, fresh);
        schedule(job.partition, fresh, dueAt);
      }
      if (job.topic !== 'event') return;
      events.add(job.id);
      while (events.size > maxEvents) {
        const [oldest] = events;
        remove(oldest!);
        dropped += 1;
      }
    },

    /** Terminations first, then events (or only `topic`). */
    claim(limit: number, leaseMs: number, topic?: JobTopic): Job[] {
      const claimed: Job[] = [];
      for (const each of topic === undefined ? JOB_TOPICS : [topic])
        claimTopic(each, limit, leaseMs, claimed);
      return claimed;
    },

    ack: remove,

    retry(jobId: string, dueAt: number): void {
      const job = jobs.get(jobId);
      if (!job) return;
      job.attempts += 1;
      const partition = partitions.get(job.partition);
      if (partition && partition.jobIds[0] === jobId) schedule(job.partition, partition, dueAt);
    },

    depth: (): Record<JobTopic, number> => ({ ...depth }),

    dropped: () => dropped,
  };
}
