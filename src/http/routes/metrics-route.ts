import { createHash, timingSafeEqual } from 'node:crypto';
import { Router } from 'express';
import type { Registry } from 'prom-client';
import { AppError } from '../../errors';

/** Compares digests, so neither the content nor the length of the token shows in the timing. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** The auth scheme is case-insensitive (RFC 9110), as on the session routes. */
function bearerToken(authorization: string | undefined): string | undefined {
  return /^Bearer (.+)$/i.exec(authorization ?? '')?.[1];
}

export function metricsRoute(deps: { registry: Registry; token?: string }): Router {
  const router = Router();
  router.get('/metrics', async (req, res) => {
    if (deps.token !== undefined && !sameSecret(bearerToken(req.get('authorization')) ?? '', deps.token)) {
      throw new AppError('unauthenticated', 'The metrics token is required.');
    }
    res.set('Content-Type', deps.registry.contentType).set('Cache-Control', 'no-store');
    res.send(await deps.registry.metrics());
  });
  return router;
}
