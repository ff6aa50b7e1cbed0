import { createServer, type Server } from 'node:http';
import type { Express } from 'express';
import type { Logger } from '../logger';
import { answerClientError } from './client-error';

/**
 * Keep-alive outlives a typical load balancer's 60 s idle timeout (so the balancer, not us, closes
 * idle connections), while a client trickling its headers or body is cut off.
 */
export const serverTimeouts = {
  keepAliveTimeoutMs: 65_000,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  /** How often Node checks the two deadlines above (its default, 30 s, would let a trickle run long). */
  checkIntervalMs: 1_000,
};

export type HttpServerOptions = Partial<typeof serverTimeouts> & { logger: Logger };

export function createHttpServer(app: Express, options: HttpServerOptions): Server {
  const t = { ...serverTimeouts, ...options };
  const server = createServer({ connectionsCheckingInterval: t.checkIntervalMs }, app);
  server.on('clientError', answerClientError(options.logger));
  server.keepAliveTimeout = t.keepAliveTimeoutMs;
  server.headersTimeout = t.headersTimeoutMs;
  server.requestTimeout = t.requestTimeoutMs;
  return server;
}
