import type { RequestHandler } from 'express';
import { AppError } from '../errors';
import type { Logger } from '../logger';

const allowedHeaders = 'Authorization, Content-Type, Idempotency-Key, X-Request-Id';
// Idempotent-Replayed tells a retried click that it collected the earlier session, not a new one.
const exposedHeaders =
  'Location, Retry-After, RateLimit, RateLimit-Policy, X-Request-Id, Idempotent-Replayed';

const isPreflight = (req: Parameters<RequestHandler>[0]) =>
  req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;

/**
 * A browser hides a refused preflight's answer from the page ("Failed to fetch"), but shows it in
 * the network tab: say there what to change. The origin itself is never echoed.
 */
function refusedPreflight(corsOff: boolean): AppError {
  return new AppError(
    'forbidden',
    corsOff
      ? 'CORS is off (CORS_ORIGINS is not set), so browsers may not call the broker from another origin. Set CORS_ORIGINS to the page origins that may, e.g. https://app.example.com.'
      : 'This origin is not in the broker’s CORS_ORIGINS. Add the page’s exact origin (scheme, host and port, no trailing slash) to CORS_ORIGINS.',
  );
}

/** Exact-origin allowlist: no patterns, no `null`, no reflection of unlisted origins. */
export function cors(origins: readonly string[]): RequestHandler {
  const allowed = new Set(origins);
  return (req, res, next) => {
    res.vary('Origin');
    const origin = req.headers.origin;
    if (origin === undefined || !allowed.has(origin)) {
      if (origin === undefined || !isPreflight(req)) return next();
      req.log?.debug({ origin: origin.slice(0, 200) }, 'CORS preflight refused: origin not in CORS_ORIGINS');
      throw refusedPreflight(allowed.size === 0);
    }
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Expose-Headers', exposedHeaders);
    if (isPreflight(req)) {
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, DELETE');
      res.setHeader('Access-Control-Allow-Headers', allowedHeaders);
      res.setHeader('Access-Control-Max-Age', '600');
      res.status(204).end();
      return;
    }
    next();
  };
}

/** One line at start: a forgotten or misspelt CORS_ORIGINS shows here, not as browser errors. */
export function logCorsPolicy(logger: Logger, origins: readonly string[]): void {
  if (origins.length === 0)
    logger.info('CORS off: CORS_ORIGINS is not set, so browsers on other origins cannot call the broker');
  else logger.info({ corsOrigins: origins }, 'CORS allows these origins');
}
