import { timingSafeEqual } from 'node:crypto';
import { Router } from 'express';
import type { Registry } from 'prom-client';
import { AppError } from '../../errors';

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function metricsRoute(deps: { registry: Registry; token?: string }): Router {
  const router = Router();
  router.get('/metrics', async (req, res) => {
    if (deps.token !== undefined && !sameSecret(req.get('authorization') ?? '', `Bearer ${deps.token}`)) {
      throw new AppError('unauthenticated', 'The metrics token is required.');
    }
    res.set('Content-Type', deps.registry.contentType).set('Cache-Control', 'no-store');
    res.send(await deps.registry.metrics());
  });
  return router;
}
