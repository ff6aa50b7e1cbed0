import type { Config, EngineType } from '../config/types';
import { createLogger, type Logger } from '../logger';
import { createMetrics, type Metrics } from '../metrics';
import { createStore } from '../store/create-store';
import { guardStore } from '../store/guarded-store';
import type { SessionStore } from '../store/ports';
import { createUpstreams, type UpstreamOptions } from '../upstreams/create-upstreams';
import type { ModelLifecycle } from '../upstreams/model-lifecycle';
import { createPremintPool, type PremintPool } from '../upstreams/premint-pool';
import type { AvaturnGateway, CredentialMinter } from '../upstreams/types';
import { createBudgets, type Budgets } from './budgets';
import { createLifecycleEvents } from './lifecycle-events';
import { createOutboxWatch } from './outbox-watch';
import { createQueueWorker, type QueueWorker, type QueueWorkerOptions } from './queue-worker';
import { createSessionRecovery, type SessionRecovery, type SessionRecoveryDeps } from './session-recovery';
import { createSessionService, type SessionService } from './session-service';
import { createTerminations, type Terminations } from './terminations';

export interface BrokerDeps {
  logger?: Logger;
  store?: SessionStore;
  /** Replace the real upstream adapters (the real ones are built only where none is passed). */
  minters?: Partial<Record<EngineType, CredentialMinter>>;
  avaturn?: AvaturnGateway;
  clock?: () => number;
  upstreamOptions?: UpstreamOptions;
  queue?: Partial<QueueWorkerOptions>;
  /** Pauses of the in-process fallback that ends sessions while the store is unreachable. */
  fallbackDelaysMs?: number[];
  recovery?: Pick<SessionRecoveryDeps, 'checkIntervalMs' | 'maxRemembered'>;
}

export interface Broker {
  /**
   * The store as every part uses it: guarded (retried, and 503 `not-ready` when unreachable), and
   * watched for a loss of its data (see session-recovery.ts).
   */
  store: SessionStore;
  recovery: SessionRecovery;
  service: SessionService;
  /** Minute budgets, limit overrides and the usage report. */
  budgets: Budgets;
  metrics: Metrics;
  terminations: Terminations;
  worker: QueueWorker;
  logger: Logger;
  /** Pre-minted credentials, when PREMINT_POOL_SIZE > 0. */
  premint: PremintPool | undefined;
  /** The OpenAI models' shutdown check, when an OpenAI key is configured; the server starts it. */
  modelLifecycle: ModelLifecycle | undefined;
  /** Starts the background work (the queue worker). */
  start(): void;
  /**
   * Stops the queue worker, gives terminations under way in this process up to `budgetMs` (what is
   * left stays queued in the store), then releases the store and upstream connections.
   */
  close(budgetMs?: number): Promise<void>;
}

/**
 * The composition root: builds every part of the broker but its HTTP pipeline, each from the one
 * passed in or else the real one, and wires how the lower parts report upwards (metrics).
 */
export function createBroker(config: Config, deps: BrokerDeps = {}): Broker {
  const logger = deps.logger ?? createLogger(config.logLevel);
  const clock = deps.clock ?? Date.now;
  const guarded = guardStore(deps.store ?? createStore(config, clock));
  const metrics = createMetrics({
    liveSessions: () => guarded.countAll(),
    queueDepth: () => guarded.queueDepth(),
    outboxDropped: () => guarded.outboxDropped(),
    circuitStates: () =>
      Object.fromEntries(Object.entries(upstreams.circuits).map(([name, circuit]) => [name, circuit.state])),
    modelShutdowns: () => upstreams.modelLifecycle?.shutdownTimestamps() ?? {},
  });
  const recovery = createSessionRecovery({ store: guarded, metrics, logger, clock, ...deps.recovery });
  const store = recovery.track(guarded);
  const upstreams = createUpstreams(
    config,
    { logger, clock },
    deps.upstreamOptions,
    (upstream, operation, outcome, seconds) =>
      metrics.upstreamDuration.observe({ upstream, operation, outcome }, seconds),
    { minters: deps.minters, avaturn: deps.avaturn },
  );
  const premint =
    config.premintPoolSize > 0
      ? createPremintPool({
          minters: upstreams.minters,
          profiles: config.profiles,
          size: config.premintPoolSize,
          createDeadlineMs: config.timeouts.sessionCreateDeadlineMs,
          clock,
          observe: {
            ready: (labels, count) => metrics.premintReady.set(labels, count),
            hit: (labels) => metrics.premintHits.inc(labels),
            miss: (labels) => metrics.premintMisses.inc(labels),
            discarded: (labels, count) => metrics.premintDiscards.inc(labels, count),
            refillFailed: (labels) => metrics.premintRefillFailures.inc(labels),
          },
          logger,
        })
      : undefined;
  const { avaturn } = upstreams;
  const events = createLifecycleEvents({
    logger,
    store,
    deliver: upstreams.deliverWebhook,
    onDelivery: (outcome) => metrics.webhookDeliveries.inc({ outcome }),
    deliveryPaused: () => upstreams.circuits.webhook.state === 'open',
  });
  const terminations = createTerminations({
    store,
    avaturn,
    metrics,
    events,
    logger,
    clock,
    callerGraceMs: config.timeouts.upstreamMs + 1_000,
    fallbackDelaysMs: deps.fallbackDelaysMs,
  });
  const worker = createQueueWorker({
    store,
    handlers: { terminate: terminations.jobHandler, event: events.jobHandler },
    sweepExpired: terminations.sweepExpired,
    logger,
    clock,
    options: deps.queue,
  });
  const outboxWatch = createOutboxWatch({ store, logger, clock });
  const budgets = createBudgets({ config, store, events, logger, clock });
  const service = createSessionService({
    budgets,
    config,
    store,
    minters: premint?.minters ?? upstreams.minters,
    avaturn,
    terminations,
    events,
    metrics,
    logger,
    clock,
    wasPreMinted: premint?.wasPreMinted,
  });

  return {
    store,
    service,
    budgets,
    metrics,
    terminations,
    worker,
    logger,
    premint,
    recovery,
    modelLifecycle: upstreams.modelLifecycle,
    start() {
      recovery.start();
      worker.start();
      if (upstreams.deliverWebhook !== undefined) outboxWatch.start();
      void warnAboutEviction(store, logger);
    },
    async close(budgetMs = 5_000) {
      await premint?.close();
      recovery.stop();
      outboxWatch.stop();
      await worker.stop();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        terminations.settle(),
        new Promise((resolve) => (timer = setTimeout(resolve, budgetMs))),
      ]);
      clearTimeout(timer);
      terminations.close();
      upstreams.shutdown();
      await Promise.allSettled([store.close(), upstreams.close()]);
    },
  };
}

/**
 * Any policy but `noeviction` lets Redis evict session, reservation and termination keys under
 * memory pressure: a live session the broker no longer knows, a termination never sent.
 */
async function warnAboutEviction(store: SessionStore, logger: Logger): Promise<void> {
  const policy = await store.evictionPolicy().catch(() => undefined);
  if (policy === undefined || policy === 'noeviction') return;
  logger.warn(
    { maxmemoryPolicy: policy },
    'Redis maxmemory-policy is not noeviction: under memory pressure it may evict session and termination keys',
  );
}
