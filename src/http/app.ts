import express, { type Express } from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import type { Config } from '../config/types';
import { createBroker, type Broker, type BrokerDeps } from '../sessions/broker';
import { createHoldMs } from '../sessions/session-service';
import { createAuthenticator, requireUser, requireUserFromTextBody, type AuthenticatorOptions } from './auth';
import { trackClientGone } from './client-gone';
import { cors, logCorsPolicy } from './cors';
import { createDrain } from './drain';
import { errorHandler, notFoundHandler } from './error-handler';
import { createIdempotentReplay } from './idempotent-replay';
import { openApiDocument } from './openapi';
import { adminRateLimit, ipRateLimit, userRateLimit } from './rate-limits';
import { assignRequestId } from './request-id';
import { requestMetrics } from './request-metrics';
import { adminRoutes } from './routes/admin-routes';
import { healthRoutes } from './routes/health-routes';
import { metricsRoute } from './routes/metrics-route';
import { sessionRoutes } from './routes/session-routes';

export interface AppDeps extends BrokerDeps {
  authOptions?: AuthenticatorOptions;
}

export interface BrokerApp extends Omit<Broker, 'start'> {
  app: Express;
  /**
   * Readiness turns 503 from now on; requests are still served, but every answer (also those in
   * flight) carries `Connection: close`, so keep-alive sockets end with their next answer.
   */
  startDraining(): void;
  /** Resolves once no request is in flight. */
  requestsSettled(): Promise<void>;
}

/** The broker behind its Express pipeline; never listens (server.ts does). */
export function createApp(config: Config, deps: AppDeps = {}): BrokerApp {
  const broker = createBroker(config, deps);
  const { store, service, metrics, logger } = broker;
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
  const adminLimit = adminRateLimit(store, config.limits.rateLimitIpPerMinute, () =>
    metrics.countRejection('rate-admin'),
  );
  app.use(
    adminRoutes({
      token: config.adminToken,
      service,
      budgets: broker.budgets,
      bodyLimitBytes: config.bodyLimitBytes,
      beforeAuth: [adminLimit],
      logger,
    }),
  );
  app.use(
    sessionRoutes({
      service,
      budgets: broker.budgets,
      replay: createIdempotentReplay(store, createHoldMs(config.timeouts)),
      beforeAuth: [ipLimit],
      authenticate: requireUser(authenticator),
      authenticateFromBody: requireUserFromTextBody(authenticator),
      createLimit: [
        userRateLimit(store, config.limits.rateLimitPerMinute, () => metrics.countRejection('rate-user')),
      ],
      bodyLimitBytes: config.bodyLimitBytes,
    }),
  );
  app.use(notFoundHandler);
  app.use(errorHandler);

  broker.start();

  const { start: _start, ...parts } = broker;
  return {
    ...parts,
    app,
    startDraining: drain.start,
    requestsSettled: drain.settled,
    async close(budgetMs) {
      authenticator.close();
      await parts.close(budgetMs);
    },
  };
}
