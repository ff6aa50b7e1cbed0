import type { EngineProfile, RENDER_MODELS } from './engines';

export type {
  CartesiaEngineProfile,
  EngineProfile,
  EngineType,
  ExternalEngineProfile,
  OpenAiEngineProfile,
} from './engines';
export type SessionLimitPolicy = 'replace-oldest' | 'reject';

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

export interface RedisEndpoint {
  host: string;
  port: number;
}

/**
 * Redis as one server, a Cluster or a Sentinel deployment. `url` (`redis://` or `rediss://`) is the
 * server itself when standalone; for a Cluster or Sentinel only its scheme (TLS), user, password and
 * database count. `ca` is the PEM of a private CA that signed the servers' certificates.
 */
export type RedisConnection =
  | { mode: 'standalone'; url: string; ca?: string }
  | { mode: 'cluster'; nodes: RedisEndpoint[]; url?: string; ca?: string }
  | { mode: 'sentinel'; sentinels: RedisEndpoint[]; masterName: string; url?: string; ca?: string };

export interface AuthConfig {
  /** HS256 shared secret (>= 32 bytes); exclusive with jwksUrl. */
  secret?: string;
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
  userClaim: string;
  /** The claim that names the caller's tenant; unset = no tenants. */
  tenantClaim?: string;
  /** A token's `exp` may lie at most this far past its `iat` (past now without `iat`). */
  maxTokenLifetimeSeconds: number;
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
    /** Live sessions across one tenant's users; 0 = no cap. Always rejects. */
    maxSessionsPerTenant: number;
    rateLimitPerMinute: number;
    rateLimitIpPerMinute: number;
  };
  /** How to reach the Redis store; absent: the in-process store. */
  redis?: RedisConnection;
  /** Names the broker's Redis keys (each in one hash tag), so that brokers can share one Redis. */
  redisKeyPrefix: string;
  timeouts: { upstreamMs: number; sessionCreateDeadlineMs: number; shutdownDrainMs: number };
  metricsToken?: string;
  /** Enables the /admin routes. */
  adminToken?: string;
  /** Lifecycle events are delivered here as Standard Webhooks when set. */
  eventsWebhook?: { url: string; secret: string };
  /** Undelivered lifecycle events kept at most; beyond it the oldest is dropped. */
  outboxMaxJobs: number;
  bodyLimitBytes: number;
  budgets: BudgetConfig;
  /** Fresh credentials kept ready per pre-mintable profile; 0 = off (nothing minted ahead). */
  premintPoolSize: number;
}

/** Minute budgets (0 = none) and the calendar their windows follow. */
export interface BudgetConfig {
  userDailyMinutes: number;
  userMonthlyMinutes: number;
  tenantDailyMinutes: number;
  tenantMonthlyMinutes: number;
  serviceDailyMinutes: number;
  /** IANA zone whose calendar days and months are the budget windows and the usage days. */
  timeZone: string;
  /** Days the daily usage aggregates are kept. */
  usageRetentionDays: number;
}
