import OpenAI from 'openai';
import { z } from 'zod';
import type { OpenAiEngineProfile, Profile } from '../config/types';
import type { Circuit } from './circuit';
import { BodyTooLargeError, type UpstreamHttp } from './http-client';
import { defaultRetry, withRetries } from './retry';
import type { ConversationEngine, CredentialMinter, MintContext } from './types';
import { parseRetryAfterMs, UpstreamError } from './upstream-error';

const clientSecretResponse = z.object({ value: z.string().min(1).max(4096) });

export interface OpenAiMinterOptions {
  apiKey: string;
  baseUrl: string;
  timeoutMs: number;
  http: UpstreamHttp;
  circuit: Circuit;
  retry?: typeof defaultRetry;
}

/** The GA `client_secrets` body for a profile: named settings win over `engine.session` extras. */
export function clientSecretRequest(engine: OpenAiEngineProfile) {
  const extra = engine.session as { audio?: { output?: Record<string, unknown> } & Record<string, unknown> };
  const session: Record<string, unknown> = { ...engine.session, type: 'realtime', model: engine.model };
  if (engine.instructions !== undefined) session.instructions = engine.instructions;
  if (engine.voice !== undefined) {
    session.audio = { ...extra.audio, output: { ...extra.audio?.output, voice: engine.voice } };
  }
  return {
    expires_after: { anchor: 'created_at' as const, seconds: engine.clientSecretTtlSeconds },
    session,
  };
}

export function createOpenAiMinter(options: OpenAiMinterOptions): CredentialMinter {
  const client = new OpenAI({
    apiKey: options.apiKey,
    baseURL: options.baseUrl,
    timeout: options.timeoutMs,
    maxRetries: 0,
    fetch: options.http.fetch,
  });
  const retry = options.retry ?? defaultRetry;

  async function mintOnce(profile: Profile, signal?: AbortSignal): Promise<string> {
    if (profile.engine.type !== 'openai-realtime')
      throw new Error(`profile ${profile.name} is not an OpenAI profile`);
    let raw: unknown;
    try {
      // The SDK's body type trails the GA API; the shape is checked by our tests against the docs.
      raw = await client.realtime.clientSecrets.create(clientSecretRequest(profile.engine) as never, {
        timeout: options.timeoutMs,
        maxRetries: 0,
        signal,
      });
    } catch (err) {
      throw toUpstreamError(err, signal);
    }
    const parsed = clientSecretResponse.safeParse(raw);
    if (!parsed.success) throw new UpstreamError('openai', 'bad-response', { reason: 'client secret shape' });
    return parsed.data.value;
  }

  return {
    async mint(profile: Profile, context: MintContext): Promise<ConversationEngine> {
      const signal = context.signal;
      const value = await withRetries(() => options.circuit.run('mint', () => mintOnce(profile, signal)), {
        ...retry,
        signal,
      });
      return { type: 'openai-realtime', client_secret: value };
    },
  };
}

function toUpstreamError(err: unknown, signal?: AbortSignal): unknown {
  if (signal?.aborted) return signal.reason;
  if (err instanceof OpenAI.APIConnectionTimeoutError) return new UpstreamError('openai', 'timeout');
  if (err instanceof Error && err.cause instanceof BodyTooLargeError) {
    return new UpstreamError('openai', 'bad-response', { reason: 'body over the size cap' });
  }
  if (err instanceof OpenAI.APIConnectionError) return new UpstreamError('openai', 'unreachable');
  if (err instanceof OpenAI.APIError && err.status !== undefined) {
    return new UpstreamError('openai', 'status', {
      status: err.status,
      retryAfterMs: parseRetryAfterMs(err.headers?.get('retry-after')),
      upstreamRequestId: err.requestID ?? undefined,
    });
  }
  return new UpstreamError('openai', 'bad-response', { reason: err instanceof Error ? err.name : 'error' });
}
