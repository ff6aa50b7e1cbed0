import { z } from 'zod';
import { sessionIdPattern } from './session-id';
import type { Circuit } from './circuit';
import type { UpstreamHttp, UpstreamResponse } from './http-client';
import type { AvaturnCreateRequest, AvaturnGateway, AvaturnSession, CallOptions } from './types';
import { UpstreamError } from './upstream-error';

const createResponse = z.object({
  session_id: z.string().regex(sessionIdPattern),
  token: z.string().min(1).max(8192),
});

/** Avaturn created something, but its answer is unusable: the caller must still terminate it. */
export class UnusableSessionError extends UpstreamError {
  constructor(readonly sessionId: string) {
    super('avaturn', 'bad-response', { reason: 'create response shape' });
  }
}

export interface AvaturnGatewayOptions {
  apiKey: string;
  baseUrl: string;
  timeoutMs: number;
  http: UpstreamHttp;
  /** Apart, so that an outage of one operation does not fail the other. */
  circuits: { create: Circuit; terminate: Circuit };
}

export function createAvaturnGateway(options: AvaturnGatewayOptions): AvaturnGateway {
  const sessionsUrl = `${options.baseUrl}/api/v1/sessions`;
  const headers = { authorization: `Bearer ${options.apiKey}` };

  const statusError = (res: UpstreamResponse) =>
    new UpstreamError('avaturn', 'status', {
      status: res.status,
      retryAfterMs: res.retryAfterMs,
      upstreamRequestId: res.requestId,
    });

  return {
    async createSession(
      request: AvaturnCreateRequest,
      callOptions: CallOptions = {},
    ): Promise<AvaturnSession> {
      const res = await options.circuits.create.run('create', async () => {
        const answer = await options.http.send({
          upstream: 'avaturn',
          method: 'POST',
          url: sessionsUrl,
          headers,
          body: request,
          timeoutMs: options.timeoutMs,
          signal: callOptions.signal,
        });
        if (answer.status < 200 || answer.status >= 300) throw statusError(answer);
        return answer;
      });
      const parsed = createResponse.safeParse(res.json);
      if (!parsed.success) {
        const id = (res.json as { session_id?: unknown } | undefined)?.session_id;
        if (typeof id === 'string' && sessionIdPattern.test(id)) throw new UnusableSessionError(id);
        throw new UpstreamError('avaturn', 'bad-response', { reason: 'create response shape' });
      }
      return { sessionId: parsed.data.session_id, token: parsed.data.token };
    },

    async terminateSession(sessionId: string, callOptions: CallOptions = {}) {
      if (!sessionIdPattern.test(sessionId)) throw new Error('refusing to terminate a malformed session id');
      return options.circuits.terminate.run('terminate', async () => {
        const res = await options.http.send({
          upstream: 'avaturn',
          method: 'DELETE',
          url: `${sessionsUrl}/${sessionId}`,
          headers,
          timeoutMs: options.timeoutMs,
          signal: callOptions.signal,
        });
        if (res.status === 404) return 'already-gone' as const;
        if (res.status >= 200 && res.status < 300) return 'terminated' as const;
        throw statusError(res);
      });
    },
  };
}
