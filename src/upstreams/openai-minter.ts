import OpenAI from 'openai';
import type { ClientSecretCreateParams } from 'openai/resources/realtime/client-secrets';
import type { RealtimeSessionCreateRequest } from 'openai/resources/realtime/realtime';
import { z } from 'zod';
import type { OpenAiEngineProfile, Profile } from '../config/types';
import type { Circuit } from './circuit';
import { BodyTooLargeError } from './http-client';
import type { Retirement } from './model-lifecycle';
import { defaultRetry, withRetries } from './retry';
import type { ConversationEngine, CredentialMinter, MintContext } from './types';
import { parseRetryAfterMs, UpstreamError } from './upstream-error';

const clientSecretResponse = z.object({ value: z.string().min(1).max(4096) });

export interface OpenAiMinterOptions {
  /** The SDK over the shared pool (`createOpenAiClient`). */
  client: OpenAI;
  timeoutMs: number;
  circuit: Circuit;
  retry?: typeof defaultRetry;
  /** Set once a model's shutdown date has passed, so that a failed mint can say why. */
  retirementOf?: (model: string) => Retirement | undefined;
}

/** The GA `client_secrets` body for a profile: named settings win over `engine.session` extras. */
export function clientSecretRequest(engine: OpenAiEngineProfile): ClientSecretCreateParams {
  // The operator's own OpenAI session fields, passed through as written; OpenAI validates them.
  const extra = engine.session as Omit<RealtimeSessionCreateRequest, 'type'>;
  const session: RealtimeSessionCreateRequest = { ...extra, type: 'realtime', model: engine.model };
  if (engine.instructions !== undefined) session.instructions = engine.instructions;
  if (engine.voice !== undefined) {
    session.audio = { ...extra.audio, output: { ...extra.audio?.output, voice: engine.voice } };
  }
  return {
    expires_after: { anchor: 'created_at', seconds: engine.clientSecretTtlSeconds },
    session,
  };
}

export function createOpenAiMinter(options: OpenAiMinterOptions): CredentialMinter {
  const { client } = options;
  const retry = options.retry ?? defaultRetry;

  async function mintOnce(profile: Profile, signal?: AbortSignal): Promise<string> {
    if (profile.engine.type !== 'openai-realtime')
      throw new Error(`profile ${profile.name} is not an OpenAI profile`);
    let raw: unknown;
    try {
      raw = await client.realtime.clientSecrets.create(clientSecretRequest(profile.engine), {
        timeout: options.timeoutMs,
        maxRetries: 0,
        signal,
      });
    } catch (err) {
      const { model } = profile.engine;
      throw explainRetirement(
        toUpstreamError(err, signal),
        profile.name,
        model,
        options.retirementOf?.(model),
      );
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

/** A refused mint for a model past its shutdown date says so, in our own words. */
function explainRetirement(
  err: unknown,
  profileName: string,
  model: string,
  retired: Retirement | undefined,
): unknown {
  if (retired === undefined || !(err instanceof UpstreamError) || err.kind !== 'status' || err.retryable) {
    return err;
  }
  const replacement = retired.replacement === undefined ? '' : `; its replacement is ${retired.replacement}`;
  return new UpstreamError('openai', 'status', {
    status: err.upstreamStatus,
    upstreamRequestId: err.upstreamRequestId,
    reason: 'model retired',
    detail: `The OpenAI model of profile "${profileName}" (${model}) was retired on ${retired.date}${replacement}.`,
  });
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
