import { Router, type RequestHandler } from 'express';
import { AppError } from '../../errors';
import type { SessionService } from '../../sessions/session-service';
import type { SessionRecord } from '../../sessions/store';
import { hasBearerSecret } from '../bearer-secret';

export interface AdminRoutesDeps {
  /** Without a token the admin routes do not exist (404 like any unknown route). */
  token: string | undefined;
  service: SessionService;
  /** Runs before the token check (per-IP limit). */
  beforeAuth: RequestHandler[];
}

const maxUserIdLength = 256;
const listLimit = { default: 1_000, max: 10_000 };
const iso = (ms: number) => new Date(ms).toISOString();

function adminItem(record: SessionRecord) {
  return {
    session_id: record.sessionId,
    user_id: record.userId,
    profile: record.profile,
    engine: record.engine,
    created_at: iso(record.createdAt),
    expires_at: iso(record.expiresAt),
  };
}

function parseLimit(value: unknown): number {
  if (value === undefined) return listLimit.default;
  const limit = typeof value === 'string' && /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(limit >= 1 && limit <= listLimit.max))
    throw new AppError('invalid-request', `limit must be an integer from 1 to ${listLimit.max}.`);
  return limit;
}

/** The operator's kill switch: every live session, and ending all of one user's. */
export function adminRoutes(deps: AdminRoutesDeps): Router {
  const router = Router();
  const { token, service } = deps;
  if (token === undefined) return router;
  const requireAdmin: RequestHandler = (req, _res, next) => {
    if (!hasBearerSecret(req.get('authorization'), token))
      throw new AppError('unauthenticated', 'The admin token is required.');
    next();
  };
  const guard = [...deps.beforeAuth, requireAdmin];

  router.get('/admin/sessions', ...guard, async (req, res) => {
    const sessions = await service.listAll(parseLimit(req.query.limit));
    res.set('Cache-Control', 'no-store').json({ sessions: sessions.map(adminItem) });
  });

  router.delete('/admin/users/:user/sessions', ...guard, async (req, res) => {
    const user = req.params.user;
    if (typeof user !== 'string' || user.length === 0 || user.length > maxUserIdLength)
      throw new AppError('not-found', 'No such user.');
    const terminated = await service.endAllOf(user);
    res.set('Cache-Control', 'no-store').json({ terminated });
  });

  return router;
}
