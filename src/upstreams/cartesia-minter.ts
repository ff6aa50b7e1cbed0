import { z } from 'zod';
import type { Profile } from '../config/types';
import type { Circuit } from './circuit';
import type { UpstreamHttp, UpstreamResponse } from './http-client';
import { defaultRetry, withRetries } from './retry';
import type { ConversationEngine, CredentialMinter, MintContext } from './types';
import { UpstreamError } from './upstream-error';

const accessTokenResponse = z.object({ token: z.string().min(1).max(8192) });
/**
 * The error body of Cartesia-Version 2026-03-01 and later (older versions may answer plain text,
 * whose 429s cannot be told apart). Only the code and the id are used: the text is Cartesia's.
 */
const errorResponse = z.object({
  error_code: z.string().nullable(),
  title: z.string(),
  message: z.string(),
  request_id: z.string(),
});
const loggableId = /^[A-Za-z0-9_-]{1,128}$/;

function statusError(res: UpstreamResponse): UpstreamError {
  const parsed = errorResponse.safeParse(res.json);
  const body = parsed.success ? parsed.data : undefined;
  const bodyId = body !== undefined && loggableId.test(body.request_id) ? body.request_id : undefined;
  const accountFull = res.status === 429 && body?.error_code === 'concurrency_limited';
  return new UpstreamError('cartesia', accountFull ? 'capacity' : 'status', {
    status: res.status,
    retryAfterMs: res.retryAfterMs,
    upstreamRequestId: res.requestId ?? bodyId,
  });
}

export interface CartesiaMinterOptions {
  apiKey: string;
  baseUrl: string;
  version: string;
  timeoutMs: number;
  http: UpstreamHttp;
  circuit: Circuit;
  retry?: typeof defaultRetry;
}

export function createCartesiaMinter(options: CartesiaMinterOptions): CredentialMinter {
  const retry = options.retry ?? defaultRetry;

  async function mintOnce(ttlSeconds: number, signal?: AbortSignal): Promise<string> {
    const res = await options.http.send({
      upstream: 'cartesia',
      method: 'POST',
      url: `${options.baseUrl}/access-token`,
      headers: { authorization: `Bearer ${options.apiKey}`, 'cartesia-version': options.version },
      body: { grants: { agent: true }, expires_in: ttlSeconds },
      timeoutMs: options.timeoutMs,
      signal,
    });
    if (res.status !== 200) throw statusError(res);
    const parsed = accessTokenResponse.safeParse(res.json);
    if (!parsed.success)
      throw new UpstreamError('cartesia', 'bad-response', { reason: 'access token shape' });
    return parsed.data.token;
  }

  return {
    async mint(profile: Profile, context: MintContext): Promise<ConversationEngine> {
      const engine = profile.engine;
      if (engine.type !== 'cartesia') throw new Error(`profile ${profile.name} is not a Cartesia profile`);
      const signal = context.signal;
      const token = await withRetries(
        () => options.circuit.run('mint', () => mintOnce(engine.tokenTtlSeconds, signal)),
        { ...retry, signal },
      );
      return { type: 'cartesia', access_token: token, agent_id: engine.agentId };
    },
  };
}
