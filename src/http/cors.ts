import type { RequestHandler } from 'express';

const allowedHeaders = 'Authorization, Content-Type, Idempotency-Key, X-Request-Id';
// Idempotent-Replayed tells a retried click that it collected the earlier session, not a new one.
const exposedHeaders =
  'Location, Retry-After, RateLimit, RateLimit-Policy, X-Request-Id, Idempotent-Replayed';

/** Exact-origin allowlist: no patterns, no `null`, no reflection of unlisted origins. */
export function cors(origins: readonly string[]): RequestHandler {
  const allowed = new Set(origins);
  return (req, res, next) => {
    res.vary('Origin');
    const origin = req.headers.origin;
    if (origin === undefined || !allowed.has(origin)) {
      next();
      return;
    }
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Expose-Headers', exposedHeaders);
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, DELETE');
      res.setHeader('Access-Control-Allow-Headers', allowedHeaders);
      res.setHeader('Access-Control-Max-Age', '600');
      res.status(204).end();
      return;
    }
    next();
  };
}
