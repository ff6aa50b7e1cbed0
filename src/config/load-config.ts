import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { checkDistinctSecrets } from './distinct-secrets';
import { checkEngineRequirements } from './engine-requirements';
import {
  baseUrlVar,
  corsOrigins,
  enumVar,
  headerSecret,
  hmacKey,
  httpUrl,
  httpUrlWithoutCredentials,
  integerVar,
  timeZone,
  RANGES,
  redisKeyPrefixProblem,
  trustProxy,
  webhookSecret,
} from './env-parsers';
import { omitUndefined } from './omit-undefined';
import { describeIssue } from './problems';
import { BACKGROUNDS, RENDER_MODELS, SESSION_ENGINES } from './engines';
import { defaultProfiles, readProfilesFile, toProfiles } from './profiles-file';
import { checkRedisRequirements, readCaFile, redisEnvSchema, toRedisConnection } from './redis-env';
import type { Config } from './types';

/** Every problem found, one per line; never a variable's value, so it is safe to log. */
export class ConfigError extends Error {
  readonly problems: string[];

  constructor(problems: string[]) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(`Invalid configuration (${count}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export interface LoadConfigOptions {
  /** Reads PROFILES_FILE and REDIS_TLS_CA_FILE; defaults to fs.readFileSync as UTF-8. */
  readFile?: (path: string) => string;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** Kept verbatim: whitespace may be part of a secret or a prompt. */
const UNTRIMMED = new Set([
  'AVATURN_API_KEY',
  'OPENAI_API_KEY',
  'CARTESIA_API_KEY',
  'AUTH_JWT_SECRET',
  'METRICS_TOKEN',
  'EXTERNAL_ENGINE_SIGNING_KEY',
  'ADMIN_TOKEN',
  'EVENTS_WEBHOOK_SECRET',
]);

export const envSchema = z.object({
  PORT: integerVar([0, 65535], 8080),
  HOST: z.string().default('0.0.0.0'),
  LOG_LEVEL: enumVar(LOG_LEVELS).default('info'),
  AVATURN_API_KEY: headerSecret,
  AVATURN_BASE_URL: baseUrlVar('https://api.avaturn.live'),
  OPENAI_API_KEY: headerSecret.optional(),
  OPENAI_BASE_URL: baseUrlVar('https://api.openai.com/v1'),
  CARTESIA_API_KEY: headerSecret.optional(),
  CARTESIA_BASE_URL: baseUrlVar('https://api.cartesia.ai'),
  CARTESIA_VERSION: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'must be a date like 2026-03-01' })
    .default('2026-03-01'),
  AUTH_JWT_SECRET: hmacKey.optional(),
  AUTH_JWKS_URL: httpUrl.optional(),
  AUTH_ISSUER: z.string().optional(),
  AUTH_AUDIENCE: z.string().optional(),
  AUTH_USER_CLAIM: z.string().default('sub'),
  AUTH_MAX_TOKEN_LIFETIME_SECONDS: integerVar([1], 86_400),
  AUTH_TENANT_CLAIM: z.string().optional(),
  CORS_ORIGINS: corsOrigins,
  TRUST_PROXY: trustProxy,
  PROFILES_FILE: z.string().optional(),
  SESSION_ENGINE: enumVar(SESSION_ENGINES).default('openai-realtime'),
  OPENAI_REALTIME_MODEL: z.string().default('gpt-realtime-2.1'),
  OPENAI_REALTIME_VOICE: z.string().optional(),
  OPENAI_REALTIME_INSTRUCTIONS: z.string().optional(),
  OPENAI_CLIENT_SECRET_TTL_SECONDS: integerVar(RANGES.clientSecretTtl, 600),
  CARTESIA_AGENT_ID: z.string().optional(),
  CARTESIA_TOKEN_TTL_SECONDS: integerVar(RANGES.tokenTtl, 300),
  AVATURN_AVATAR_ID: z.string().optional(),
  AVATURN_BACKGROUND: enumVar(BACKGROUNDS).optional(),
  AVATURN_RENDER_MODEL: enumVar(RENDER_MODELS).optional(),
  SESSION_MAX_DURATION_SECONDS: integerVar(RANGES.maxDuration, 900),
  SESSION_USER_ABSENT_TIMEOUT_SECONDS: integerVar(RANGES.userAbsentTimeout, 60),
  MAX_SESSIONS_PER_USER: integerVar([1], 1),
  SESSION_LIMIT_POLICY: enumVar(['replace-oldest', 'reject']).default('replace-oldest'),
  MAX_SESSIONS_TOTAL: integerVar([0], 0),
  MAX_SESSIONS_PER_TENANT: integerVar([0], 0),
  USER_DAILY_MINUTES: integerVar([0], 0),
  USER_MONTHLY_MINUTES: integerVar([0], 0),
  TENANT_DAILY_MINUTES: integerVar([0], 0),
  TENANT_MONTHLY_MINUTES: integerVar([0], 0),
  SERVICE_DAILY_MINUTES: integerVar([0], 0),
  BUDGET_TIME_ZONE: timeZone.default('UTC'),
  USAGE_RETENTION_DAYS: integerVar([1, 3660], 400),
  RATE_LIMIT_PER_MINUTE: integerVar([1], 10),
  RATE_LIMIT_IP_PER_MINUTE: integerVar([1], 60),
  ...redisEnvSchema,
  REDIS_KEY_PREFIX: z
    .string()
    .refine((s) => redisKeyPrefixProblem(s) === undefined, {
      error: (issue) => redisKeyPrefixProblem(String(issue.input)),
    })
    .default('avaturn-broker:'),
  UPSTREAM_TIMEOUT_MS: integerVar([1], 5000),
  SESSION_CREATE_DEADLINE_MS: integerVar([1], 10000),
  SHUTDOWN_DRAIN_MS: integerVar([0], 5000),
  METRICS_TOKEN: headerSecret.optional(),
  EXTERNAL_ENGINE_SIGNING_KEY: hmacKey.optional(),
  ADMIN_TOKEN: headerSecret
    .refine((s) => s.length >= 32, { error: 'must be at least 32 characters' })
    .optional(),
  EVENTS_WEBHOOK_URL: httpUrlWithoutCredentials.optional(),
  EVENTS_WEBHOOK_SECRET: webhookSecret.optional(),
  EVENTS_OUTBOX_MAX_JOBS: integerVar([1], 100_000),
  PREMINT_POOL_SIZE: integerVar([0, 100], 0),
});
type Env = z.infer<typeof envSchema>;
export type EnvVar = keyof typeof envSchema.shape;
type RawEnv = Partial<Record<keyof Env, string>>;

function readRawEnv(env: Record<string, string | undefined>): RawEnv {
  const raw: RawEnv = {};
  for (const key of Object.keys(envSchema.shape) as (keyof Env)[]) {
    const value = env[key];
    if (value === undefined || value.trim() === '') continue;
    raw[key] = UNTRIMMED.has(key) ? value : value.trim();
  }
  return raw;
}

function checkWebhookRequirements(raw: RawEnv, problems: string[]): void {
  if (raw.EVENTS_WEBHOOK_URL !== undefined && raw.EVENTS_WEBHOOK_SECRET === undefined)
    problems.push('EVENTS_WEBHOOK_SECRET: is required with EVENTS_WEBHOOK_URL');
  if (raw.EVENTS_WEBHOOK_SECRET !== undefined && raw.EVENTS_WEBHOOK_URL === undefined)
    problems.push('EVENTS_WEBHOOK_URL: is required with EVENTS_WEBHOOK_SECRET');
}

function checkAuthRequirements(raw: RawEnv, problems: string[]): void {
  if (raw.AUTH_JWT_SECRET !== undefined && raw.AUTH_JWKS_URL !== undefined) {
    problems.push('AUTH_JWT_SECRET, AUTH_JWKS_URL: set only one of them');
  } else if (raw.AUTH_JWT_SECRET === undefined && raw.AUTH_JWKS_URL === undefined) {
    problems.push('AUTH_JWT_SECRET or AUTH_JWKS_URL: one of them is required');
  } else if (raw.AUTH_JWKS_URL !== undefined) {
    if (raw.AUTH_ISSUER === undefined) problems.push('AUTH_ISSUER: is required with AUTH_JWKS_URL');
    if (raw.AUTH_AUDIENCE === undefined) problems.push('AUTH_AUDIENCE: is required with AUTH_JWKS_URL');
  }
}

/**
 * Builds the configuration from an environment, without side effects beyond reading PROFILES_FILE
 * and REDIS_TLS_CA_FILE.
 * Throws one ConfigError listing every problem found.
 */
export function loadConfig(env: Record<string, string | undefined>, options: LoadConfigOptions = {}): Config {
  const readFile = options.readFile ?? ((path: string) => readFileSync(path, 'utf8'));
  const raw = readRawEnv(env);
  const parsed = envSchema.safeParse(raw);
  const problems = (parsed.error?.issues ?? []).map(
    (issue) => `${issue.path.join('.')}: ${describeIssue(issue)}`,
  );

  const file =
    raw.PROFILES_FILE === undefined
      ? defaultProfiles(raw.SESSION_ENGINE)
      : readProfilesFile(raw.PROFILES_FILE, readFile, problems);
  checkAuthRequirements(raw, problems);
  checkWebhookRequirements(raw, problems);
  checkDistinctSecrets(raw, problems);
  checkEngineRequirements(raw, file.engines, problems);
  checkRedisRequirements(raw, problems);
  const redisCa =
    raw.REDIS_TLS_CA_FILE === undefined ? undefined : readCaFile(raw.REDIS_TLS_CA_FILE, readFile, problems);

  if (!parsed.success || problems.length > 0) throw new ConfigError([...new Set(problems)]);
  const env_ = parsed.data;
  const profiles = toProfiles(file, env_);

  return {
    port: env_.PORT,
    host: env_.HOST,
    logLevel: env_.LOG_LEVEL,
    avaturn: { baseUrl: env_.AVATURN_BASE_URL, apiKey: env_.AVATURN_API_KEY },
    openai: omitUndefined({ baseUrl: env_.OPENAI_BASE_URL, apiKey: env_.OPENAI_API_KEY }),
    cartesia: omitUndefined({
      baseUrl: env_.CARTESIA_BASE_URL,
      apiKey: env_.CARTESIA_API_KEY,
      version: env_.CARTESIA_VERSION,
    }),
    auth: omitUndefined({
      secret: env_.AUTH_JWT_SECRET,
      jwksUrl: env_.AUTH_JWKS_URL,
      issuer: env_.AUTH_ISSUER,
      audience: env_.AUTH_AUDIENCE,
      userClaim: env_.AUTH_USER_CLAIM,
      tenantClaim: env_.AUTH_TENANT_CLAIM,
      maxTokenLifetimeSeconds: env_.AUTH_MAX_TOKEN_LIFETIME_SECONDS,
    }),
    corsOrigins: env_.CORS_ORIGINS,
    trustProxy: env_.TRUST_PROXY,
    profiles,
    limits: {
      maxSessionsPerUser: env_.MAX_SESSIONS_PER_USER,
      sessionLimitPolicy: env_.SESSION_LIMIT_POLICY,
      maxSessionsTotal: env_.MAX_SESSIONS_TOTAL,
      maxSessionsPerTenant: env_.MAX_SESSIONS_PER_TENANT,
      rateLimitPerMinute: env_.RATE_LIMIT_PER_MINUTE,
      rateLimitIpPerMinute: env_.RATE_LIMIT_IP_PER_MINUTE,
    },
    ...omitUndefined({
      externalEngine:
        env_.EXTERNAL_ENGINE_SIGNING_KEY === undefined
          ? undefined
          : { signingKey: env_.EXTERNAL_ENGINE_SIGNING_KEY },
      redis: toRedisConnection(env_, redisCa),
      metricsToken: env_.METRICS_TOKEN,
      adminToken: env_.ADMIN_TOKEN,
      eventsWebhook:
        env_.EVENTS_WEBHOOK_URL === undefined || env_.EVENTS_WEBHOOK_SECRET === undefined
          ? undefined
          : { url: env_.EVENTS_WEBHOOK_URL, secret: env_.EVENTS_WEBHOOK_SECRET },
    }),
    timeouts: {
      upstreamMs: env_.UPSTREAM_TIMEOUT_MS,
      sessionCreateDeadlineMs: env_.SESSION_CREATE_DEADLINE_MS,
      shutdownDrainMs: env_.SHUTDOWN_DRAIN_MS,
    },
    redisKeyPrefix: env_.REDIS_KEY_PREFIX,
    outboxMaxJobs: env_.EVENTS_OUTBOX_MAX_JOBS,
    budgets: {
      userDailyMinutes: env_.USER_DAILY_MINUTES,
      userMonthlyMinutes: env_.USER_MONTHLY_MINUTES,
      tenantDailyMinutes: env_.TENANT_DAILY_MINUTES,
      tenantMonthlyMinutes: env_.TENANT_MONTHLY_MINUTES,
      serviceDailyMinutes: env_.SERVICE_DAILY_MINUTES,
      timeZone: env_.BUDGET_TIME_ZONE,
      usageRetentionDays: env_.USAGE_RETENTION_DAYS,
    },
    bodyLimitBytes: 4096,
    premintPoolSize: env_.PREMINT_POOL_SIZE,
  };
}
