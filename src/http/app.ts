import express, { type Express } from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import type { Config, EngineType } from '../config/types';
import { createLogger, type Logger } from '../logger';
import { createMetrics, type Metrics } from '../metrics';
import { createSessionService, type SessionService } from '../sessions/session-service';
import type { SessionStore } from '../sessions/store';
import { createStore } from '../sessions/create-store';
import { createTerminator, type Terminator } from '../sessions/terminator';
import { createUpstreams, type UpstreamOptions } from '../upstreams/create-upstreams';
import type { AvaturnGateway, CredentialMinter } from '../upstreams/types';
import { createAuthenticator, requireUser, type AuthenticatorOptions } from './auth';
import { cors } from './cors';
import { createDrain } from './drain';
import { errorHandler, notFoundHandler } from './error-handler';
import { openApiDocument } from './openapi';
import { ipRateLimit, userRateLimit } from './rate-limits';
import { assignRequestId } from './request-id';
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
  terminationRetryDelaysMs?: number[];
}

export interface BrokerApp {
  app: Express;
  store: SessionStore;
  service: SessionService;
  metrics: Metrics;
  terminator: Terminator;
  logger: Logger;
  /**
   * Readiness turns 503 from now on; requests are still served, but every answer (also those in
   * flight) carries `Connection: close`, so keep-alive sockets end with their next answer.
   */
  startDraining(): void;
  /** Resolves once no request is in flight. */
  requestsSettled(): Promise<void>;
  /** Waits for pending compensations, then releases the store and upstream connections. */
  close(): Promise<void>;
}

export function createApp(config: Config, deps: AppDeps = {}): BrokerApp {
  const logger = deps.logger ?? createLogger(config.logLevel);
  const clock = deps.clock ?? Date.now;
  const store = deps.store ?? createStore(config, clock);
  const upstreams = createUpstreams(config, deps.upstreamOptions);
  const minters = deps.minters ?? upstreams.minters;
  const avaturn = deps.avaturn ?? upstreams.avaturn;
  const metrics = createMetrics(() => store.countAll());
  const terminator = createTerminator({
    avaturn,
    logger,
    metrics,
    retryDelaysMs: deps.terminationRetryDelaysMs,
  });
  const service = createSessionService({
    config,
    store,
    minters,
    avaturn,
    terminator,
    metrics,
    logger,
    clock,
  });
  const authenticator = createAuthenticator(config.auth, deps.authOptions);
  const drain = createDrain();

  const app = express();
  app.disable('x-powered-by');
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

  app.use(healthRoutes({ store, isDraining: drain.isDraining }));
  app.use(metricsRoute({ registry: metrics.registry, token: config.metricsToken }));
  const document = openApiDocument(config);
  app.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  app.use(
    sessionRoutes({
      service,
      store,
      beforeAuth: [ipRateLimit(store, config.limits.rateLimitIpPerMinute)],
      authenticate: requireUser(authenticator),
      createLimit: [userRateLimit(store, config.limits.rateLimitPerMinute)],
      bodyLimitBytes: config.bodyLimitBytes,
      pendingIdempotencyTtlMs: config.timeouts.sessionCreateDeadlineMs + 30_000,
    }),
  );
  app.use(notFoundHandler);
  app.use(errorHandler);

  return {
    app,
    store,
    service,
    metrics,
    terminator,
    logger,
    startDraining: drain.start,
    requestsSettled: drain.settled,
    async close() {
      await terminator.settle();
      upstreams.shutdown();
      await Promise.allSettled([store.close(), upstreams.close()]);
    },
  };
}
