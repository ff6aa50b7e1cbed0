import { Router } from 'express';
import { AppError } from '../../errors';
import { storeUnavailable } from '../../store/guarded-store';
import type { StoreHealth } from '../../store/ports';
import type { LivenessBody, ReadinessBody } from '../schemas-responses';

const readinessTimeoutMs = 1000;

export function healthRoutes(deps: { store: StoreHealth; isDraining: () => boolean }): Router {
  const router = Router();

  router.get('/healthz', (_req, res) => {
    const body: LivenessBody = { status: 'ok' };
    res.set('Cache-Control', 'no-store').json(body);
  });

  router.get('/readyz', async (_req, res) => {
    if (deps.isDraining()) throw new AppError('not-ready', 'The server is shutting down.');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error('store ping timed out')), readinessTimeoutMs);
    });
    try {
      await Promise.race([deps.store.ping(), timeout]);
    } catch (cause) {
      throw storeUnavailable(cause);
    } finally {
      clearTimeout(timer);
    }
    const body: ReadinessBody = { status: 'ready', store: deps.store.kind };
    res.set('Cache-Control', 'no-store').json(body);
  });

  return router;
}
