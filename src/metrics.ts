import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type TerminationReason = 'user' | 'replaced' | 'compensation';

const premintLabels = ['profile', 'engine'] as const;

/** One registry per app, so tests and several apps in one process never share counters. */
export function createMetrics(liveSessions: () => Promise<number>) {
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
    sessionsTerminated: new Counter({
      name: 'avaturn_broker_sessions_terminated_total',
      help: 'Sessions the broker ended upstream, by reason.',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    terminationsAbandoned: new Counter({
      name: 'avaturn_broker_terminations_abandoned_total',
      help: 'Sessions the broker failed to terminate after every retry (they end by their own timeouts).',
      registers: [registry],
    }),
    createDuration: new Histogram({
      name: 'avaturn_broker_session_create_duration_seconds',
      help: 'Time to create a session, from reservation to registration.',
      labelNames: ['engine'] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
      registers: [registry],
    }),
    premintHits: new Counter({
      name: 'avaturn_broker_premint_hits_total',
      help: 'Creates that took a pre-minted credential from the pool.',
      labelNames: premintLabels,
      registers: [registry],
    }),
    premintMisses: new Counter({
      name: 'avaturn_broker_premint_misses_total',
      help: 'Creates of a pooled profile that found the pool empty and minted inline.',
      labelNames: premintLabels,
      registers: [registry],
    }),
    premintDiscards: new Counter({
      name: 'avaturn_broker_premint_discards_total',
      help: 'Pre-minted credentials dropped unused because they came within the safety margin of expiry.',
      labelNames: premintLabels,
      registers: [registry],
    }),
    premintRefillFailures: new Counter({
      name: 'avaturn_broker_premint_refill_failures_total',
      help: 'Background mints for the pool that failed (the pool then backs off).',
      labelNames: premintLabels,
      registers: [registry],
    }),
    premintReady: new Gauge({
      name: 'avaturn_broker_premint_ready',
      help: 'Pre-minted credentials ready to be handed out.',
      labelNames: premintLabels,
      registers: [registry],
    }),
    liveSessions: new Gauge({
      name: 'avaturn_broker_live_sessions',
      help: 'Sessions currently registered across all replicas sharing the store.',
      registers: [registry],
      async collect() {
        this.set(await liveSessions().catch(() => Number.NaN));
      },
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
