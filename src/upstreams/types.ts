import type { ExternalEngineProfile, Profile } from '../config/types';

/** The `conversation_engine` object Avaturn needs, bound to a freshly minted credential. */
export type ConversationEngine =
  | { type: 'openai-realtime'; client_secret: string }
  | { type: 'cartesia'; access_token: string; agent_id: string }
  | {
      type: 'external';
      url: string;
      audio: { user: { sample_rate: ExternalEngineProfile['sampleRate'] } };
      /** The profile's static headers plus `Authorization: Bearer <credential>`. */
      headers: Record<string, string>;
    };

export interface CallOptions {
  /** Aborts the call (client gone, whole-request deadline). */
  signal?: AbortSignal;
}

/** What a credential is minted for: one session of one user. */
export interface MintContext extends CallOptions {
  userId: string;
}

/** Mints the short-lived upstream credential a profile's engine needs. */
export interface CredentialMinter {
  mint(profile: Profile, context: MintContext): Promise<ConversationEngine>;
}

export interface AvaturnCreateRequest {
  avatar_id?: string;
  background?: 'default' | 'transparent';
  /** The render preset, under the name Avaturn's API reference gives it. */
  model?: Profile['avatar']['renderModel'];
  conversation_engine: ConversationEngine;
  max_duration: number;
  user_absent_timeout: number;
}

export interface AvaturnSession {
  sessionId: string;
  token: string;
}

export interface AvaturnGateway {
  /** Never retried: a create that may have been sent could have started a billable session. */
  createSession(request: AvaturnCreateRequest, options?: CallOptions): Promise<AvaturnSession>;
  /** 'already-gone' when Avaturn answers 404. Throws AppError on anything else unusable. */
  terminateSession(sessionId: string, options?: CallOptions): Promise<'terminated' | 'already-gone'>;
}

/** Every service the broker calls out to; a metric label and part of error details. */
export const UPSTREAMS = ['openai', 'cartesia', 'avaturn', 'webhook'] as const;
export type UpstreamName = (typeof UPSTREAMS)[number];

/**
 * The circuit breakers, a metric label: one per upstream, but Avaturn's create and terminate apart,
 * so that an outage of DELETE alone does not fail creates (nor a create outage hold up endings).
 */
export const CIRCUITS = ['openai', 'cartesia', 'avaturn-create', 'avaturn-terminate', 'webhook'] as const;
export type CircuitName = (typeof CIRCUITS)[number];
