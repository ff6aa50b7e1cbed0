import type { SAMPLE_RATES } from './agent-endpoint';
import type { ENGINES, RENDER_MODELS } from './profiles-file';

export type EngineType = keyof typeof ENGINES;
export type SessionLimitPolicy = 'replace-oldest' | 'reject';

export interface OpenAiEngineProfile {
  type: 'openai-realtime';
  model: string;
  voice?: string;
  instructions?: string;
  /** Extra OpenAI `session` fields (tools, prompt, transcription...), merged server-side. */
  session: Record<string, unknown>;
  clientSecretTtlSeconds: number;
}

export interface CartesiaEngineProfile {
  type: 'cartesia';
  agentId: string;
  tokenTtlSeconds: number;
}

/** The operator's own voice agent, which Avaturn reaches over a WebSocket. */
export interface ExternalEngineProfile {
  type: 'external';
  url: string;
  sampleRate: (typeof SAMPLE_RATES)[number];
  /** Static handshake headers; never Authorization, which carries the minted credential. */
  headers: Record<string, string>;
}

export type EngineProfile = OpenAiEngineProfile | CartesiaEngineProfile | ExternalEngineProfile;

export interface Profile {
  name: string;
  engine: EngineProfile;
  avatar: {
    avatarId?: string;
    background?: 'default' | 'transparent';
    /** Avaturn's render preset; sent only when set. */
    renderModel?: (typeof RENDER_MODELS)[number];
  };
  maxDurationSeconds: number;
  userAbsentTimeoutSeconds: number;
}

export interface AuthConfig {
  /** HS256 shared secret (>= 32 bytes); exclusive with jwksUrl. */
  secret?: string;
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
  userClaim: string;
}

export interface Config {
  port: number;
  host: string;
  logLevel: string;
  avaturn: { baseUrl: string; apiKey: string };
  openai: { baseUrl: string; apiKey?: string };
  cartesia: { baseUrl: string; apiKey?: string; version: string };
  /** Present when EXTERNAL_ENGINE_SIGNING_KEY is set: the HS256 key for external-engine credentials. */
  externalEngine?: { signingKey: string };
  auth: AuthConfig;
  corsOrigins: string[];
  /** Express `trust proxy`: a hop count, a subnet list, or false. Never `true`. */
  trustProxy: number | string[] | false;
  profiles: Record<string, Profile>;
  limits: {
    maxSessionsPerUser: number;
    sessionLimitPolicy: SessionLimitPolicy;
    /** 0 means no global cap. */
    maxSessionsTotal: number;
    rateLimitPerMinute: number;
    rateLimitIpPerMinute: number;
  };
  redisUrl?: string;
  timeouts: { upstreamMs: number; sessionCreateDeadlineMs: number; shutdownDrainMs: number };
  metricsToken?: string;
  /** Enables the /admin routes. */
  adminToken?: string;
  /** Lifecycle events are delivered here as Standard Webhooks when set. */
  eventsWebhook?: { url: string; secret: string };
  bodyLimitBytes: number;
  /** Fresh credentials kept ready per pre-mintable profile; 0 = off (nothing minted ahead). */
  premintPoolSize: number;
  /** Undelivered lifecycle events kept at most (EVENTS_OUTBOX_MAX_JOBS). */
  eventsOutboxMaxJobs: number;
}
