import { createSecretKey, type KeyObject } from 'node:crypto';
import express, { type RequestHandler } from 'express';
import { createRemoteJWKSet, customFetch, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { AuthConfig } from '../config/types';
import { AppError, isAppError } from '../errors';
import { createJwksFetch, JwksUnavailableError } from './jwks-fetch';
import { jwksSchedule, refreshEvery } from './jwks-refresh';
import { assertDeclaredLength, withBodyErrors } from './json-body';
import { describeRefusal } from './token-refusal';
import { createVerifiedTokens } from './verified-tokens';

const asymmetricAlgorithms = ['RS256', 'PS256', 'ES256', 'EdDSA'];
const clockToleranceSeconds = 30;
const maxTokenLength = 8192;
const maxUserIdLength = 256;

/** Who is calling: the user, and their tenant when AUTH_TENANT_CLAIM is set. */
export interface Caller {
  userId: string;
  tenantId?: string;
}

/** What a tenant claim must look like (the contract's pattern). */
const tenantPattern = /^[A-Za-z0-9._:@-]{1,128}$/;

export interface Authenticator {
  /**
   * Resolves the caller, or throws AppError (401; 403 without a valid tenant claim where one is
   * required; 503 when the JWKS cannot be had).
   */
  authenticate(authorization: string | undefined): Promise<Caller>;
  /** Stops the key set's background refresh. */
  close(): void;
}

export interface AuthenticatorOptions {
  jwksTimeoutMs?: number;
  /** Least time between refetches for an unknown `kid`. */
  jwksCooldownMs?: number;
  /** How long a failed fetch of the key set is remembered (503 at once meanwhile). */
  jwksFailureCooldownMs?: number;
  /** How often the key set is fetched in the background (`jwksSchedule.refreshMs` by default). */
  jwksRefreshMs?: number;
  /** Told about every key set fetch (metrics). */
  onJwksFetch?: (outcome: string) => void;
  /** Epoch ms for token expiry (wall time by default); injectable so that tests can move time. */
  clock?: () => number;
}

export function createAuthenticator(config: AuthConfig, options: AuthenticatorOptions = {}): Authenticator {
  const clock = options.clock ?? Date.now;
  const verified = createVerifiedTokens<Caller>({ clock });
  let key: KeyObject | JWTVerifyGetKey;
  let algorithms: string[];
  let stopRefresh = () => undefined as void;
  if (config.jwksUrl !== undefined) {
    const remote = createRemoteJWKSet(new URL(config.jwksUrl), {
      timeoutDuration: options.jwksTimeoutMs ?? 2000,
      cooldownDuration: options.jwksCooldownMs ?? 30_000,
      cacheMaxAge: jwksSchedule.maxAgeMs,
      [customFetch]: createJwksFetch({
        failureCooldownMs: options.jwksFailureCooldownMs ?? 5000,
        onFetch: options.onJwksFetch,
        onKeySet: (keyIds) => verified.keepOnlyKeys(keyIds),
      }),
    });
    stopRefresh = refreshEvery(remote.reload, options.jwksRefreshMs ?? jwksSchedule.refreshMs);
    key = remote;
    algorithms = asymmetricAlgorithms;
  } else if (config.secret !== undefined) {
    // Imported once: a raw secret would be imported again on every verification.
    key = createSecretKey(Buffer.from(config.secret, 'utf8'));
    algorithms = ['HS256'];
  } else {
    throw new Error('auth config needs a secret or a JWKS URL');
  }
  const unauthenticated = (reason: string) =>
    new AppError('unauthenticated', 'A valid bearer token is required.', { cause: { reason } });

  return {
    async authenticate(authorization) {
      const match = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)$/i.exec(authorization ?? '');
      const token = match?.[1];
      if (token === undefined) throw unauthenticated('no bearer token in the form "Bearer <JWT>"');
      if (token.length > maxTokenLength)
        throw unauthenticated(`the token is over ${maxTokenLength} characters`);
      const known = verified.userOf(token);
      if (known !== undefined) return known;
      let payload, protectedHeader;
      try {
        // jose takes a key or a key resolver; the union is fine at run time.
        ({ payload, protectedHeader } = await jwtVerify(token, key as JWTVerifyGetKey, {
          algorithms,
          issuer: config.issuer,
          audience: config.audience,
          requiredClaims: ['exp', config.userClaim],
          clockTolerance: clockToleranceSeconds,
          currentDate: new Date(clock()),
        }));
      } catch (err) {
        if (err instanceof JwksUnavailableError) {
          throw new AppError('upstream-unavailable', 'The identity provider could not be reached.', {
            cause: { jwks: err.reason },
            retryAfterSeconds: err.retryAfterMs / 1000,
          });
        }
        throw unauthenticated(describeRefusal(err, config));
      }
      // `exp` is required above; a far-future one would keep a leaked token useful for as long.
      const issuedAt = typeof payload.iat === 'number' ? payload.iat : clock() / 1000;
      if ((payload.exp as number) - issuedAt > config.maxTokenLifetimeSeconds) {
        throw unauthenticated(
          `exp lies more than AUTH_MAX_TOKEN_LIFETIME_SECONDS (${config.maxTokenLifetimeSeconds} s) past ${typeof payload.iat === 'number' ? 'iat' : 'now'}`,
        );
      }
      const user = payload[config.userClaim];
      if (typeof user !== 'string' || user.length === 0 || user.length > maxUserIdLength)
        throw unauthenticated(
          `the ${config.userClaim} claim is not a string of 1 to ${maxUserIdLength} characters`,
        );
      // A lone surrogate is not Unicode (`isWellFormed`): stores encode it as U+FFFD, so two such users would be one.
      if (/\p{Surrogate}/u.test(user))
        throw unauthenticated(`the ${config.userClaim} claim is not well-formed Unicode`);
      const caller: Caller = { userId: user };
      if (config.tenantClaim !== undefined) {
        const tenant = payload[config.tenantClaim];
        if (typeof tenant !== 'string' || !tenantPattern.test(tenant))
          throw new AppError('forbidden', 'Your token names no organisation (tenant) this service accepts.', {
            cause: { reason: `the ${config.tenantClaim} claim is missing or not a tenant id` },
          });
        caller.tenantId = tenant;
      }
      // `exp` is required above, so it is a number here.
      verified.remember(
        token,
        caller,
        ((payload.exp as number) + clockToleranceSeconds) * 1000,
        protectedHeader.kid,
      );
      return caller;
    },
    close: () => stopRefresh(),
  };
}

declare module 'express-serve-static-core' {
  interface Request {
    userId?: string;
    tenantId?: string;
  }
}

/**
 * Puts the caller on the request, or throws the refusal with its reason logged at info: a 401 alone
 * tells an operator nothing.
 */
async function authenticated(
  authenticator: Authenticator,
  req: Parameters<RequestHandler>[0],
  authorization: string | undefined,
): Promise<void> {
  try {
    const caller = await authenticator.authenticate(authorization);
    req.userId = caller.userId;
    if (caller.tenantId !== undefined) req.tenantId = caller.tenantId;
  } catch (err) {
    const reason = (err as { cause?: { reason?: unknown } }).cause?.reason;
    if (
      isAppError(err) &&
      (err.code === 'unauthenticated' || err.code === 'forbidden') &&
      typeof reason === 'string'
    )
      req.log?.info({ reason }, 'bearer token refused');
    throw err;
  }
}

export function requireUser(authenticator: Authenticator): RequestHandler {
  return async (req, _res, next) => {
    await authenticated(authenticator, req, req.headers.authorization);
    next();
  };
}

/**
 * The same check with the token as a `text/plain` body: a closing page can send that without a
 * CORS preflight, and Chromium may drop a preflighted request together with the page.
 */
export function requireUserFromTextBody(authenticator: Authenticator): RequestHandler[] {
  const limitBytes = maxTokenLength + 64;
  const parse = withBodyErrors(express.text({ type: 'text/plain', limit: limitBytes }));
  const checkLength: RequestHandler = (req, _res, next) => {
    assertDeclaredLength(req.headers, limitBytes);
    next();
  };
  const authenticate: RequestHandler = async (req, _res, next) => {
    const token = typeof req.body === 'string' ? req.body.trim() : '';
    await authenticated(authenticator, req, `Bearer ${token}`);
    next();
  };
  return [checkLength, parse, authenticate];
}

export function userOf(req: { userId?: string }): string {
  if (req.userId === undefined) throw new AppError('unauthenticated', 'A valid bearer token is required.');
  return req.userId;
}

export function callerOf(req: { userId?: string; tenantId?: string }): Caller {
  const userId = userOf(req);
  return req.tenantId === undefined ? { userId } : { userId, tenantId: req.tenantId };
}
