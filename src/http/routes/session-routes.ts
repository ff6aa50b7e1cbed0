import { Router, type RequestHandler, type Response } from 'express';
import { AppError } from '../../errors';
import type { CreatedSession, SessionService } from '../../sessions/session-service';
import type { SessionRecord } from '../../store/ports';
import { isSessionId } from '../../upstreams/session-id';
import type { Budgets } from '../../sessions/budgets';
import { callerOf, userOf } from '../auth';
import { callerLimitsBody } from '../budget-bodies';
import { clientGoneOf } from '../client-gone';
import {
  assertIdempotencyKey,
  fingerprintOf,
  type IdempotentOutcome,
  type IdempotentReplay,
  type StoredResponse,
} from '../idempotent-replay';
import { jsonBody } from '../json-body';
import { parseCreateSessionBody } from '../schemas';
import type { CreatedSessionBody, SessionListBody, SessionSummary } from '../schemas-responses';

export interface SessionRoutesDeps {
  service: SessionService;
  budgets: Budgets;
  /** Replays POST /session answers by Idempotency-Key. */
  replay: IdempotentReplay;
  /** Runs before authentication (per-IP limit). */
  beforeAuth: RequestHandler[];
  authenticate: RequestHandler;
  /** Authentication from a text/plain body, for POST /session/:id/end. */
  authenticateFromBody: RequestHandler[];
  /** Runs after authentication on POST /session (per-user limit). */
  createLimit: RequestHandler[];
  bodyLimitBytes: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

function createdResponse({ record, token }: CreatedSession): StoredResponse {
  const body: CreatedSessionBody = { session_id: record.sessionId, token, expires_at: iso(record.expiresAt) };
  return { status: 201, headers: { Location: `/session/${record.sessionId}` }, body };
}

function send(res: Response, response: StoredResponse, replayed: boolean): void {
  res.set(response.headers).set('Cache-Control', 'no-store');
  if (replayed) res.set('Idempotent-Replayed', 'true');
  res.status(response.status).json(response.body);
}

function listItem(record: SessionRecord): SessionSummary {
  return {
    session_id: record.sessionId,
    profile: record.profile,
    created_at: iso(record.createdAt),
    expires_at: iso(record.expiresAt),
  };
}

export function sessionRoutes(deps: SessionRoutesDeps): Router {
  const router = Router();
  const { service } = deps;
  const guard = [...deps.beforeAuth, deps.authenticate];

  router.post(
    '/session',
    ...guard,
    ...deps.createLimit,
    ...jsonBody(deps.bodyLimitBytes),
    async (req, res) => {
      const { userId, tenantId } = callerOf(req);
      const body = parseCreateSessionBody(req.body);
      const key = assertIdempotencyKey(req.get('idempotency-key'));
      const profileName = body.profile ?? 'default';
      const profile = service.assertProfile(profileName);
      const clientGone = clientGoneOf(res);
      const produce = async () =>
        createdResponse(
          await service.create({
            userId,
            ...(tenantId === undefined ? {} : { tenantId }),
            profile,
            clientGone,
            keepIfClientGone: key !== undefined,
          }),
        );
      // With a key the session is kept even if the client leaves: a retry with the same key collects it.
      const outcome: IdempotentOutcome =
        key === undefined
          ? { replayed: false, response: await produce() }
          : await deps.replay({ userId, key, fingerprint: fingerprintOf({ profile: profileName }) }, produce);
      if (!clientGone.aborted) send(res, outcome.response, outcome.replayed);
    },
  );

  const terminate: RequestHandler<{ id: string }> = async (req, res) => {
    const userId = userOf(req);
    const id = req.params.id;
    if (!isSessionId(id)) throw new AppError('not-found', 'No such session.');
    await service.end(userId, id);
    res.set('Cache-Control', 'no-store').status(204).end();
  };
  router.delete('/session/:id', ...guard, terminate);
  // DELETE for a page that is going away: a simple request, so no preflight can be lost with it.
  router.post('/session/:id/end', ...deps.beforeAuth, ...deps.authenticateFromBody, terminate);

  router.get('/sessions', ...guard, async (req, res) => {
    const body: SessionListBody = { sessions: (await service.list(userOf(req))).map(listItem) };
    res.set('Cache-Control', 'no-store').json(body);
  });

  router.get('/me/limits', ...guard, async (req, res) => {
    const { userId, tenantId } = callerOf(req);
    const body = callerLimitsBody(await deps.budgets.callerLimits(userId, tenantId));
    res.set('Cache-Control', 'no-store').json(body);
  });

  return router;
}
