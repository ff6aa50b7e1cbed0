import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { JobTopic } from './sessions/store';

/** What the metrics read from the store when scraped. */
export interface MetricSources {
  liveSessions(): Promise<number>;
  queueDepth(): Promise<Record<JobTopic, number>>;
}

/** One registry per app, so tests and several apps in one process never share counters. */
export function createMetrics(sources: MetricSources) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'avaturn_broker_' });
  return {
    registry,
    sessionsCreated: new Counter({
      name: 'avaturn_broker_sessions_created_total',
      help: 'Sessions created upstream and handed to a caller.',
      labelNames: ['profile', 'engine'] as const,
      registers: [registry],
    }),
    createFailures: new Counter({
      name: 'avaturn_broker_session_create_failures_total',
      help: 'POST /session attempts that failed, by problem code.',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
    sessionsEnded: new Counter({
      name: 'avaturn_broker_sessions_ended_total',
      help: 'Sessions that left the registry, by why they ended.',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    terminations: new Counter({
      name: 'avaturn_broker_terminations_total',
      help: 'Attempts to end a session at Avaturn, by outcome (dropped: given up once past max_duration).',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'avaturn_broker_queue_jobs',
      help: 'Jobs waiting in the durable queue (shared by every replica on Redis), by topic.',
      labelNames: ['topic'] as const,
      registers: [registry],
      async collect() {
        const depth = await sources.queueDepth().catch(() => undefined);
        for (const [topic, jobs] of Object.entries(depth ?? {})) this.set({ topic }, jobs);
      },
    }),
    createDuration: new Histogram({
      name: 'avaturn_broker_session_create_duration_seconds',
      help: 'Time to create a session, from reservation to registration.',
      labelNames: ['engine'] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
      registers: [registry],
    }),
    liveSessions: new Gauge({
      name: 'avaturn_broker_live_sessions',
      help: 'Sessions currently registered across all replicas sharing the store.',
      registers: [registry],
      async collect() {
        this.set(await sources.liveSessions().catch(() => Number.NaN));
      },
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
