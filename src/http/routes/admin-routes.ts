import { Router, type RequestHandler } from 'express';
import { AppError } from '../../errors';
import type { Logger } from '../../logger';
import type { Budgets } from '../../sessions/budgets';
import type { SessionService } from '../../sessions/session-service';
import type { LimitsPatch, LimitSubject } from '../../store/budgets';
import type { SessionRecord } from '../../store/ports';
import { auditAdmin } from '../admin-audit';
import { hasBearerSecret } from '../bearer-secret';
import { effectiveLimitsBody, usageCsv } from '../budget-bodies';
import { jsonBody } from '../json-body';
import {
  parseAdminSessionsFilter,
  parseAdminSessionsLimit,
  parseLimitsPatch,
  parseUsageQuery,
  tenantId,
  userId,
} from '../schemas';
import type {
  AdminSessionBody,
  AdminSessionListBody,
  TerminatedCountBody,
  UsageReportBody,
} from '../schemas-responses';

export interface AdminRoutesDeps {
  /** Without a token the admin routes do not exist (404 like any unknown route). */
  token: string | undefined;
  service: SessionService;
  budgets: Budgets;
  bodyLimitBytes: number;
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
    ...(record.tenantId === undefined ? {} : { tenant: record.tenantId }),
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
    const filter = parseAdminSessionsFilter(req.query);
    const sessions = await service.listAll(parseAdminSessionsLimit(req.query.limit), filter);
    const body: AdminSessionListBody = { sessions: sessions.map(adminItem) };
    res.set('Cache-Control', 'no-store').json(body);
  });

  router.delete('/admin/users/:user/sessions', ...guard, async (req, res) => {
    const user = userId.safeParse(req.params.user);
    if (!user.success) throw new AppError('not-found', 'No such user.');
    const body: TerminatedCountBody = { terminated: await service.endAllOf(user.data) };
    res.set('Cache-Control', 'no-store').json(body);
  });

  /** The user or tenant a limits path names; a malformed id is a 404 like any unknown path. */
  const subjectOf = (scope: LimitSubject['scope'], raw: string): LimitSubject => {
    const parsed = (scope === 'user' ? userId : tenantId).safeParse(raw);
    if (!parsed.success) throw new AppError('not-found', `No such ${scope}.`);
    return { scope, id: parsed.data };
  };
  for (const scope of ['user', 'tenant'] as const) {
    const path = `/admin/${scope}s/:${scope}/limits`;
    router.get(path, ...guard, async (req, res) => {
      const limits = await deps.budgets.limitsOf(subjectOf(scope, String(req.params[scope])));
      res.set('Cache-Control', 'no-store').json(effectiveLimitsBody(limits));
    });
    router.put(path, ...guard, ...jsonBody(deps.bodyLimitBytes), async (req, res) => {
      const subject = subjectOf(scope, String(req.params[scope]));
      const body = parseLimitsPatch(req.body, scope);
      const patch: LimitsPatch = {};
      if (body.daily_minutes !== undefined) patch.dailyMinutes = body.daily_minutes;
      if (body.monthly_minutes !== undefined) patch.monthlyMinutes = body.monthly_minutes;
      if (body.max_sessions !== undefined) patch.maxSessions = body.max_sessions;
      const limits = await deps.budgets.setLimits(subject, patch);
      res.set('Cache-Control', 'no-store').json(effectiveLimitsBody(limits));
    });
  }

  router.get('/admin/usage', ...guard, async (req, res) => {
    const query = parseUsageQuery(req.query);
    const rows = await deps.budgets.usage(query.from, query.to, query.group_by);
    res.set('Cache-Control', 'no-store').vary('Accept');
    if (req.accepts(['application/json', 'text/csv']) === 'text/csv') {
      res.type('text/csv; charset=utf-8; header=present').send(usageCsv(rows));
      return;
    }
    const body: UsageReportBody = { from: query.from, to: query.to, group_by: query.group_by, rows };
    res.json(body);
  });

  return router;
}
