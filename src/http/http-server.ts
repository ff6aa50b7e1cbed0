import { createServer, type Server } from 'node:http';
import type { Express } from 'express';

/**
 * Keep-alive outlives a typical load balancer's 60 s idle timeout (so the balancer, not us, closes
 * idle connections), while a client trickling its headers or body is cut off.
 */
export const serverTimeouts = { keepAliveTimeoutMs: 65_000, headersTimeoutMs: 10_000, requestTimeoutMs: 30_000 };

export function createHttpServer(app: Express): Server {
  const server = createServer(app);
  server.keepAliveTimeout = serverTimeouts.keepAliveTimeoutMs;
  server.headersTimeout = serverTimeouts.headersTimeoutMs;
  server.requestTimeout = serverTimeouts.requestTimeoutMs;
  return server;
}
