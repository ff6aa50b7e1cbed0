import { Router, type RequestHandler } from 'express';
import { AppError } from '../../errors';
import type { Logger } from '../../logger';
import type { SessionService } from '../../sessions/session-service';
import type { SessionRecord } from '../../store/ports';
import { auditAdmin } from '../admin-audit';
import { hasBearerSecret } from '../bearer-secret';
import { parseAdminSessionsLimit, userId } from '../schemas';
import type { AdminSessionBody, AdminSessionListBody, TerminatedCountBody } from '../schemas-responses';

export interface AdminRoutesDeps {
  /** Without a token the admin routes do not exist (404 like any unknown route). */
  token: string | undefined;
  service: SessionService;
  /** Runs before the token check (the admin per-IP limit). */
  beforeAuth: RequestHandler[];
  /** Writes the audit line of every admin request. */
  logger: Logger;
}

const iso = (ms: number) => new Date(ms).toISOString();

function adminItem(record: SessionRecord): AdminSessionBody {
  return {
    session_id: record.sessionId,
    user_id: record.userId,
    profile: record.profile,
    engine: record.engine,
    created_at: iso(record.createdAt),
    expires_at: iso(record.expiresAt),
  };
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
  const guard = [auditAdmin(deps.logger), ...deps.beforeAuth, requireAdmin];

  router.get('/admin/sessions', ...guard, async (req, res) => {
    const sessions = await service.listAll(parseAdminSessionsLimit(req.query.limit));
    const body: AdminSessionListBody = { sessions: sessions.map(adminItem) };
    res.set('Cache-Control', 'no-store').json(body);
  });

  router.delete('/admin/users/:user/sessions', ...guard, async (req, res) => {
    const user = userId.safeParse(req.params.user);
    if (!user.success) throw new AppError('not-found', 'No such user.');
    const body: TerminatedCountBody = { terminated: await service.endAllOf(user.data) };
    res.set('Cache-Control', 'no-store').json(body);
  });

  return router;
}
