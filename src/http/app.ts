import express, { type Express } from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import type { Config, EngineType } from '../config/types';
import { createLogger, type Logger } from '../logger';
import { createMetrics, type Metrics } from '../metrics';
import { createStore } from '../sessions/create-store';
import { guardStore } from '../sessions/guarded-store';
import { createLifecycleEvents } from '../sessions/lifecycle-events';
import { createQueueWorker, type QueueWorker, type QueueWorkerOptions } from '../sessions/queue-worker';
import { createSessionService, type SessionService } from '../sessions/session-service';
import type { SessionStore } from '../sessions/store';
import { createTerminations, type Terminations } from '../sessions/terminations';
import { createUpstreams, type UpstreamOptions } from '../upstreams/create-upstreams';
import { createPremintPool, type PremintPool } from '../upstreams/premint-pool';
import type { AvaturnGateway, CredentialMinter } from '../upstreams/types';
import { createAuthenticator, requireUser, requireUserFromTextBody, type AuthenticatorOptions } from './auth';
import { trackClientGone } from './client-gone';
import { cors, logCorsPolicy } from './cors';
import { createDrain } from './drain';
import { errorHandler, notFoundHandler } from './error-handler';
import { openApiDocument } from './openapi';
import { ipRateLimit, userRateLimit } from './rate-limits';
import { assignRequestId } from './request-id';
import { requestMetrics } from './request-metrics';
import { adminRoutes } from './routes/admin-routes';
import { healthRoutes } from './routes/health-routes';
import { metricsRoute } from './routes/metrics-route';
import { sessionRoutes } from './routes/session-routes';

export interface AppDeps {
  logger?: Logger;
  store?: SessionStore;
  /** Replace the real upstream adapters (the real ones are built only where none is passed). */
  minters?: Partial<Record<EngineType, CredentialMinter>>;
  avaturn?: AvaturnGateway;
  clock?: () => number;
  upstreamOptions?: UpstreamOptions;
  authOptions?: AuthenticatorOptions;
  queue?: Partial<QueueWorkerOptions>;
  /** Pauses of the in-process fallback that ends sessions while the store is unreachable. */
  fallbackDelaysMs?: number[];
}

export interface BrokerApp {
  app: Express;
  store: SessionStore;
  service: SessionService;
  metrics: Metrics;
  terminations: Terminations;
  worker: QueueWorker;
  logger: Logger;
  /** Pre-minted credentials, when PREMINT_POOL_SIZE > 0. */
  premint: PremintPool | undefined;
  /**
   * Readiness turns 503 from now on; requests are still served, but every answer (also those in
   * flight) carries `Connection: close`, so keep-alive sockets end with their next answer.
   */
  startDraining(): void;
  /** Resolves once no request is in flight. */
  requestsSettled(): Promise<void>;
  /**
   * Stops the queue worker, gives terminations under way in this process up to `budgetMs` (what is
   * left stays queued in the store), then releases the store and upstream connections.
   */
  close(budgetMs?: number): Promise<void>;
}

export function createApp(config: Config, deps: AppDeps = {}): BrokerApp {
  const logger = deps.logger ?? createLogger(config.logLevel);
  const clock = deps.clock ?? Date.now;
  const store = guardStore(deps.store ?? createStore(config, clock));
  const metrics = createMetrics({
    liveSessions: () => store.countAll(),
    queueDepth: () => store.queueDepth(),
    circuitStates: () =>
      Object.fromEntries(Object.entries(upstreams.circuits).map(([name, circuit]) => [name, circuit.state])),
  });
  const upstreams = createUpstreams(config, deps.upstreamOptions, (upstream, operation, outcome, seconds) =>
    metrics.upstreamDuration.observe({ upstream, operation, outcome }, seconds),
  );
  const premint =
    config.premintPoolSize > 0
      ? createPremintPool({
          minters: deps.minters ?? upstreams.minters,
          profiles: config.profiles,
          size: config.premintPoolSize,
          createDeadlineMs: config.timeouts.sessionCreateDeadlineMs,
          clock,
          metrics,
          logger,
        })
      : undefined;
  const minters = premint?.minters ?? deps.minters ?? upstreams.minters;
  const avaturn = deps.avaturn ?? upstreams.avaturn;
  const events = createLifecycleEvents({
    logger,
    store,
    deliver: upstreams.deliverEvent,
    onDelivery: (outcome) => metrics.webhookDeliveries.inc({ outcome }),
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
  const service = createSessionService({
    config,
    store,
    minters,
    avaturn,
    terminations,
    events,
    metrics,
    logger,
    clock,
    wasPreMinted: premint?.wasPreMinted,
  });
  // Tokens come from the identity provider and expire by wall time, not by the app's clock.
  const authenticator = createAuthenticator(config.auth, {
    onJwksFetch: (outcome) => metrics.jwksFetches.inc({ outcome }),
    ...deps.authOptions,
  });
  const drain = createDrain();

  const app = express();
  app.disable('x-powered-by');
  // Answers are small and mostly no-store: an ETag would cost a hash per response for little use.
  app.set('etag', false);
  app.use(trackClientGone);
  app.use(requestMetrics(metrics));
  app.set('trust proxy', config.trustProxy);
  app.use(drain.track);
  app.use(
    pinoHttp({
      logger,
      genReqId: (req, res) => assignRequestId(req, res),
      // Probes and scrapes every few seconds would drown the lines that matter.
      autoLogging: { ignore: (req) => ['/healthz', '/readyz', '/metrics'].includes(req.url ?? '') },
      customLogLevel: (_req, res, err) =>
        err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
      customProps: (_req, res) => (res.locals?.problemCode ? { code: res.locals.problemCode } : {}),
      // Only what an operator needs; headers and bodies (tokens) are never serialised.
      serializers: {
        req: (req: { id: unknown; method: string; url: string }) => ({
          id: req.id,
          method: req.method,
          path: req.url.split('?')[0],
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      wrapSerializers: false,
    }),
  );
  app.use(helmet());
  app.use(cors(config.corsOrigins));
  logCorsPolicy(logger, config.corsOrigins);

  app.use(healthRoutes({ store, isDraining: drain.isDraining }));
  app.use(metricsRoute({ registry: metrics.registry, token: config.metricsToken }));
  const document = openApiDocument(config);
  app.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  const ipLimit = ipRateLimit(store, config.limits.rateLimitIpPerMinute, () =>
    metrics.countRejection('rate-ip'),
  );
  app.use(adminRoutes({ token: config.adminToken, service, beforeAuth: [ipLimit] }));
  app.use(
    sessionRoutes({
      service,
      store,
      beforeAuth: [ipLimit],
      authenticate: requireUser(authenticator),
      authenticateFromBody: requireUserFromTextBody(authenticator),
      createLimit: [
        userRateLimit(store, config.limits.rateLimitPerMinute, () => metrics.countRejection('rate-user')),
      ],
      bodyLimitBytes: config.bodyLimitBytes,
      pendingIdempotencyTtlMs: config.timeouts.sessionCreateDeadlineMs + 30_000,
    }),
  );
  app.use(notFoundHandler);
  app.use(errorHandler);

  worker.start();

  return {
    app,
    store,
    service,
    metrics,
    terminations,
    worker,
    logger,
    premint,
    startDraining: drain.start,
    requestsSettled: drain.settled,
    async close(budgetMs = 5_000) {
      await premint?.close();
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
