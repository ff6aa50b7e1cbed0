import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CircuitName } from './upstreams/types';

/** What the metrics read when scraped. */
export interface MetricSources {
  liveSessions(): Promise<number>;
  /** Jobs waiting in the durable queue, by topic. */
  queueDepth(): Promise<Record<string, number>>;
  /** Events dropped because the outbox was full, as the store counts them (across replicas). */
  outboxDropped(): Promise<number>;
  circuitStates(): Partial<Record<CircuitName, CircuitState>>;
  /** Epoch seconds at which each configured OpenAI model is shut down, for those that have a date. */
  modelShutdowns(): Record<string, number>;
}

export const CIRCUIT_STATES = ['closed', 'half-open', 'open'] as const;
export type CircuitState = (typeof CIRCUIT_STATES)[number];

/** Why a request was turned away before anything was spent: the rejections metric's labels. */
export type RejectionReason =
  'rate-ip' | 'rate-user' | 'rate-admin' | 'user-cap' | 'tenant-cap' | 'global-cap' | 'budget';

const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const lifetimeBuckets = [10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 86400];

/**
 * One registry per app, so tests and several apps in one process never share counters. Every label
 * takes values from a short, fixed set (route patterns, not paths; never a user or session id).
 */
export function createMetrics(sources: MetricSources) {
  const premintLabels = ['profile', 'engine'] as const;

  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'avaturn_broker_' });
  const registers = [registry];
  const rejections = new Counter({
    name: 'avaturn_broker_rejections_total',
    help: 'Requests turned away by a limit: per-IP, per-user or admin (per-IP, refused attempts) rate, per-user, per-tenant or global session cap, minute budget.',
    labelNames: ['reason'] as const,
    registers,
  });
  return {
    registry,
    countRejection(reason: RejectionReason): void {
      rejections.inc({ reason });
    },
    httpDuration: new Histogram({
      name: 'avaturn_broker_http_request_duration_seconds',
      help: 'HTTP requests by route pattern (unmatched for unknown routes), method and status.',
      labelNames: ['route', 'method', 'status'] as const,
      buckets: latencyBuckets,
      registers,
    }),
    upstreamDuration: new Histogram({
      name: 'avaturn_broker_upstream_request_duration_seconds',
      help: 'Each call to an upstream, by upstream, operation and outcome (ok, timeout, unreachable, status-4xx, status-5xx, bad-response, capacity, circuit-open).',
      labelNames: ['upstream', 'operation', 'outcome'] as const,
      buckets: latencyBuckets,
      registers,
    }),
    circuitState: new Gauge({
      name: 'avaturn_broker_circuit_state',
      help: 'Each circuit breaker: 1 for its current state, 0 for the others. One per upstream, Avaturn’s apart by operation: openai, cartesia, avaturn-create, avaturn-terminate, webhook.',
      labelNames: ['upstream', 'state'] as const,
      registers,
      collect() {
        for (const [upstream, current] of Object.entries(sources.circuitStates())) {
          for (const state of CIRCUIT_STATES) this.set({ upstream, state }, state === current ? 1 : 0);
        }
      },
    }),
    modelShutdown: new Gauge({
      name: 'avaturn_broker_upstream_model_shutdown_timestamp_seconds',
      help: 'When each configured OpenAI model is shut down (OpenAI’s shutdown_date, else the announced date); only models that have one.',
      labelNames: ['model'] as const,
      registers,
      collect() {
        this.reset();
        for (const [model, seconds] of Object.entries(sources.modelShutdowns())) this.set({ model }, seconds);
      },
    }),
    sessionsCreated: new Counter({
      name: 'avaturn_broker_sessions_created_total',
      help: 'Sessions created upstream and handed to a caller.',
      labelNames: ['profile', 'engine'] as const,
      registers,
    }),
    createFailures: new Counter({
      name: 'avaturn_broker_session_create_failures_total',
      help: 'POST /session attempts that failed, by problem code.',
      labelNames: ['code'] as const,
      registers,
    }),
    timeToSession: new Histogram({
      name: 'avaturn_broker_time_to_session_seconds',
      help: 'From the start of a create to its registration, by engine and whether a pre-minted credential was used.',
      labelNames: ['engine', 'preminted'] as const,
      buckets: latencyBuckets,
      registers,
    }),
    sessionSeconds: new Counter({
      name: 'avaturn_broker_session_seconds_total',
      help: 'Settled session seconds (what ended sessions ran, as charged to the budgets), by profile and engine.',
      labelNames: ['profile', 'engine'] as const,
      registers,
    }),
    budgetRejections: new Counter({
      name: 'avaturn_broker_budget_rejections_total',
      help: 'Creates refused with 429 budget-exhausted, by the scope and window that ran out.',
      labelNames: ['scope', 'window'] as const,
      registers,
    }),
    sessionsEnded: new Counter({
      name: 'avaturn_broker_sessions_ended_total',
      help: 'Sessions that left the registry, by why they ended.',
      labelNames: ['reason'] as const,
      registers,
    }),
    sessionLifetime: new Histogram({
      name: 'avaturn_broker_session_lifetime_seconds',
      help: 'From create to end, by why it ended.',
      labelNames: ['reason'] as const,
      buckets: lifetimeBuckets,
      registers,
    }),
    terminations: new Counter({
      name: 'avaturn_broker_terminations_total',
      help: 'Attempts to end a session at Avaturn, by outcome (dropped: given up once past max_duration).',
      labelNames: ['outcome'] as const,
      registers,
    }),
    queueDepth: new Gauge({
      name: 'avaturn_broker_queue_jobs',
      help: 'Jobs waiting in the durable queue (shared by every replica on Redis), by topic.',
      labelNames: ['topic'] as const,
      registers,
      async collect() {
        const depth = await sources.queueDepth().catch(() => undefined);
        for (const [topic, jobs] of Object.entries(depth ?? {})) this.set({ topic }, jobs);
      },
    }),
    webhookDeliveries: new Counter({
      name: 'avaturn_broker_webhook_deliveries_total',
      help: 'Lifecycle event deliveries to EVENTS_WEBHOOK_URL, by outcome: delivered (any 2xx), failed (an attempt; retried), gone (410: the event is dropped), dropped (undelivered in time).',
      labelNames: ['outcome'] as const,
      registers,
    }),
    outboxDropped: new Counter({
      name: 'avaturn_broker_outbox_dropped_total',
      help: 'Undelivered lifecycle events dropped because the outbox held EVENTS_OUTBOX_MAX_JOBS (oldest first); counted by the store, so every replica on one Redis reports the same total.',
      registers,
      async collect() {
        const dropped = await sources.outboxDropped().catch(() => undefined);
        if (dropped === undefined) return;
        this.reset();
        this.inc(dropped);
      },
    }),
    storeDataLoss: new Counter({
      name: 'avaturn_broker_store_data_loss_total',
      help: 'Times this replica found that the store had lost its data (its epoch marker changed: a Redis restarted without persistence, a failover that dropped writes); each is followed by re-registering the sessions this replica remembers.',
      registers,
    }),
    jwksFetches: new Counter({
      name: 'avaturn_broker_jwks_fetches_total',
      help: 'Fetches of the identity provider’s key set, by outcome.',
      labelNames: ['outcome'] as const,
      registers,
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
      registers,
      async collect() {
        this.set(await sources.liveSessions().catch(() => Number.NaN));
      },
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
