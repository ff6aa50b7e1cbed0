import { Router, type RequestHandler, type Response } from 'express';
import { AppError } from '../../errors';
import { assertIdempotencyKey, fingerprintOf, runIdempotent } from '../../sessions/idempotency';
import { isSessionId } from '../../sessions/session-id';
import type { CreatedSession, SessionService } from '../../sessions/session-service';
import type { SessionRecord, SessionStore, StoredResponse } from '../../sessions/store';
import { userOf } from '../auth';
import { jsonBody } from '../json-body';
import { parseCreateSessionBody } from '../schemas';

export interface SessionRoutesDeps {
  service: SessionService;
  store: SessionStore;
  /** Runs before authentication (per-IP limit). */
  beforeAuth: RequestHandler[];
  authenticate: RequestHandler;
  /** Authentication from a text/plain body, for POST /session/:id/end. */
  authenticateFromBody: RequestHandler[];
  /** Runs after authentication on POST /session (per-user limit). */
  createLimit: RequestHandler[];
  bodyLimitBytes: number;
  pendingIdempotencyTtlMs: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

function createdResponse({ record, token }: CreatedSession): StoredResponse {
  return {
    status: 201,
    headers: { Location: `/session/${record.sessionId}` },
    body: { session_id: record.sessionId, token, expires_at: iso(record.expiresAt) },
  };
}

function send(res: Response, response: StoredResponse, replayed: boolean): void {
  res.set(response.headers).set('Cache-Control', 'no-store');
  if (replayed) res.set('Idempotent-Replayed', 'true');
  res.status(response.status).json(response.body);
}

/** Aborts when the client hangs up before its response was fully written. */
function clientGoneSignal(res: Response): AbortSignal {
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished)
      controller.abort(new AppError('invalid-request', 'The client closed the connection.'));
  });
  return controller.signal;
}

function listItem(record: SessionRecord) {
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
      const userId = userOf(req);
      const body = parseCreateSessionBody(req.body);
      const key = assertIdempotencyKey(req.get('idempotency-key'));
      const profileName = body.profile ?? 'default';
      service.profileNamed(profileName);
      const gone = clientGoneSignal(res);

      if (key !== undefined) {
        // The session is kept even if the client leaves: a retry with the same key collects it.
        const outcome = await runIdempotent(
          deps.store,
          {
            userId,
            key,
            fingerprint: fingerprintOf({ profile: profileName }),
            pendingTtlMs: deps.pendingIdempotencyTtlMs,
          },
          async () => createdResponse(await service.create({ userId, profileName })),
        );
        if (!gone.aborted) send(res, outcome.response, outcome.replayed);
        return;
      }

      const created = await service.create({ userId, profileName, signal: gone });
      // Nobody can collect this session any more: end it rather than leave it running.
      const abandon = () => void service.abandon(created.record);
      if (gone.aborted) {
        abandon();
        return;
      }
      gone.addEventListener('abort', abandon, { once: true });
      send(res, createdResponse(created), false);
    },
  );

  const terminate: RequestHandler<{ id: string }> = async (req, res) => {
    const userId = userOf(req);
    const id = req.params.id;
    if (!isSessionId(id)) throw new AppError('not-found', 'No such session.');
    await service.terminate(userId, id);
    res.set('Cache-Control', 'no-store').status(204).end();
  };
  router.delete('/session/:id', ...guard, terminate);
  // DELETE for a page that is going away: a simple request, so no preflight can be lost with it.
  router.post('/session/:id/end', ...deps.beforeAuth, ...deps.authenticateFromBody, terminate);

  router.get('/sessions', ...guard, async (req, res) => {
    const sessions = await service.list(userOf(req));
    res.set('Cache-Control', 'no-store').json({ sessions: sessions.map(listItem) });
  });

  return router;
}
