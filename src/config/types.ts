export type EngineType = 'openai-realtime' | 'cartesia';
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

export type EngineProfile = OpenAiEngineProfile | CartesiaEngineProfile;

export interface Profile {
  name: string;
  engine: EngineProfile;
  avatar: { avatarId?: string; background?: 'default' | 'transparent' };
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
  bodyLimitBytes: number;
  /** Fresh credentials kept ready per pre-mintable profile; 0 = off (nothing minted ahead). */
  premintPoolSize: number;
}
