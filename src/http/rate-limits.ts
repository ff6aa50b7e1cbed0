import { rateLimit, ipKeyGenerator, type Options, type RateLimitInfo } from 'express-rate-limit';
import type { RequestHandler } from 'express';
import { AppError, isAppError } from '../errors';
import { storeUnavailable } from '../store/guarded-store';
import type { RateLimitStores } from '../store/ports';

const windowMs = 60_000;

function limiter(
  store: RateLimitStores,
  prefix: 'ip' | 'user' | 'admin',
  limit: number,
  keyGenerator: Options['keyGenerator'],
  onLimited: () => void,
  extra: Partial<Options> = {},
): RequestHandler {
  const middleware = rateLimit({
    ...extra,
    windowMs,
    limit,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    keyGenerator,
    store: store.rateLimitStore(prefix),
    identifier: prefix,
    handler: (req, _res, next) => {
      onLimited();
      const resetTime = (req as { rateLimit?: RateLimitInfo }).rateLimit?.resetTime?.getTime();
      const retryAfterSeconds = resetTime ? Math.max(1, Math.ceil((resetTime - Date.now()) / 1000)) : 60;
      next(new AppError('rate-limited', 'Too many requests; slow down.', { retryAfterSeconds }));
    },
  });
  // A store that cannot be reached must fail closed with 503, not a 500.
  return (req, res, next) =>
    middleware(req, res, (err?: unknown) => {
      if (err === undefined || err === null) next();
      else next(isAppError(err) ? err : storeUnavailable(err));
    });
}

/** Per client IP on every authenticated route, before authentication (req.ip honours TRUST_PROXY). */
export function ipRateLimit(
  store: RateLimitStores,
  perMinute: number,
  onLimited: () => void,
): RequestHandler {
  return limiter(store, 'ip', perMinute, (req) => ipKeyGenerator(req.ip ?? 'unknown'), onLimited);
}

/**
 * Per client IP on /admin, a bucket apart from the users' (so wrong admin tokens never lock users
 * out), counting only refused requests: a token guesser is held to `perMinute` tries, while the
 * operator's own calls are not counted.
 */
export function adminRateLimit(
  store: RateLimitStores,
  perMinute: number,
  onLimited: () => void,
): RequestHandler {
  return limiter(store, 'admin', perMinute, (req) => ipKeyGenerator(req.ip ?? 'unknown'), onLimited, {
    skipSuccessfulRequests: true,
  });
}

/** Per user on POST /session, after authentication. */
export function userRateLimit(
  store: RateLimitStores,
  perMinute: number,
  onLimited: () => void,
): RequestHandler {
  return limiter(store, 'user', perMinute, (req) => `user:${req.userId ?? 'unknown'}`, onLimited);
}
