import type { EnvVar } from './load-config';
import { ENGINES } from './engines';

export interface EnvDoc {
  /** What it does, for the README's configuration table. */
  meaning: string;
  /** How to show the default when the schema's own (none, a list, a flag) says too little. */
  default?: string;
  /** When it is required, if only in some configurations (the schema knows the unconditional case). */
  required?: string;
}

const openAiCap = ENGINES['openai-realtime'].maxDurationSeconds.limit;

/**
 * The meaning of every variable of the environment schema, in the order the README lists them.
 * Ranges, choices, defaults and whether a variable is always required come from the schema itself;
 * a variable added to the schema without an entry here does not compile.
 */
export const ENV_DOCS = {
  AVATURN_API_KEY: { meaning: 'Avaturn Live API key' },
  AUTH_JWT_SECRET: {
    meaning: 'HS256 shared secret, at least 32 bytes, no CR or LF, unlike every other secret',
    required: 'this or `AUTH_JWKS_URL`',
  },
  AUTH_JWKS_URL: {
    meaning: "the identity provider's JWKS (RS256, PS256, ES256, EdDSA); fetched again every 45 s",
    required: 'this or `AUTH_JWT_SECRET`',
  },
  AUTH_ISSUER: { meaning: 'checked against `iss` when set', required: 'with `AUTH_JWKS_URL`' },
  AUTH_AUDIENCE: { meaning: 'checked against `aud` when set', required: 'with `AUTH_JWKS_URL`' },
  AUTH_USER_CLAIM: {
    meaning: 'the claim that names the user (a non-empty, well-formed Unicode string, ≤ 256 chars; else 401)',
  },
  AUTH_MAX_TOKEN_LIFETIME_SECONDS: {
    meaning:
      'a JWT whose `exp` lies further than this past its `iat` (past now without `iat`) is refused with 401, so a leaked far-future token does not stay useful',
  },
  AUTH_TENANT_CLAIM: {
    meaning:
      "the claim that names the caller's tenant (`^[A-Za-z0-9._:@-]{1,128}$`); when set, a token without a valid one gets 403 `forbidden`",
    default: 'none (no tenants)',
  },
  OPENAI_API_KEY: { meaning: 'OpenAI API key' },
  CARTESIA_API_KEY: { meaning: 'Cartesia API key' },
  EXTERNAL_ENGINE_SIGNING_KEY: {
    meaning:
      'HS256 key (≥ 32 bytes, no CR or LF, unlike every other secret) for the per-session credential of an agent',
  },
  PORT: { meaning: 'listen port (`0` picks a free one)' },
  HOST: { meaning: 'listen address' },
  LOG_LEVEL: { meaning: 'pino level' },
  AVATURN_BASE_URL: { meaning: '`/api/v1/sessions` is appended' },
  OPENAI_BASE_URL: { meaning: '`/realtime/client_secrets` is appended' },
  CARTESIA_BASE_URL: { meaning: '`/access-token` is appended' },
  CARTESIA_VERSION: {
    meaning: '`Cartesia-Version` header (a date); 2026-03-01 is the first with structured errors',
  },
  CORS_ORIGINS: {
    meaning: 'comma-separated exact origins (`scheme://host[:port]`)',
    default: 'none: no CORS headers',
  },
  TRUST_PROXY: {
    meaning: 'hop count, or a list of IPs/CIDRs/`loopback`/`linklocal`/`uniquelocal`; `true` is refused',
    default: 'off',
  },
  PROFILES_FILE: {
    meaning:
      'JSON file of named profiles (below); without it one profile, `default`, from the variables below',
    default: 'none',
  },
  SESSION_ENGINE: { meaning: 'engine of the env-built `default` profile' },
  OPENAI_REALTIME_MODEL: {
    meaning:
      'the Realtime model; the broker warns 60 days before OpenAI shuts it down (`gpt-realtime` and `gpt-realtime-mini` go on 2027-01-20)',
  },
  OPENAI_REALTIME_VOICE: { meaning: 'sent as `session.audio.output.voice`', default: "OpenAI's" },
  OPENAI_REALTIME_INSTRUCTIONS: { meaning: 'the prompt; stays on the server', default: 'none' },
  OPENAI_CLIENT_SECRET_TTL_SECONDS: { meaning: 'lifetime of the OpenAI client secret' },
  CARTESIA_AGENT_ID: {
    meaning: 'also the default for file profiles that omit `agent_id`',
    required: 'when `SESSION_ENGINE=cartesia`',
  },
  CARTESIA_TOKEN_TTL_SECONDS: { meaning: 'lifetime of the Cartesia access token' },
  AVATURN_AVATAR_ID: { meaning: 'sent only when set', default: "Avaturn's" },
  AVATURN_BACKGROUND: { meaning: 'sent only when set', default: "Avaturn's" },
  AVATURN_RENDER_MODEL: {
    meaning: 'render preset, sent as `model` only when set',
    default: "Avaturn's (`delta`)",
  },
  SESSION_MAX_DURATION_SECONDS: {
    meaning: `sent as \`max_duration\`; at most ${openAiCap} for \`openai-realtime\` (see below)`,
  },
  SESSION_USER_ABSENT_TIMEOUT_SECONDS: { meaning: 'sent as `user_absent_timeout`' },
  MAX_SESSIONS_PER_USER: { meaning: 'live sessions one user may hold' },
  SESSION_LIMIT_POLICY: {
    meaning: "at the per-user cap: end the user's oldest session, or answer 429 `session-limit`",
  },
  MAX_SESSIONS_TOTAL: { meaning: 'live sessions across all users; always rejects', default: '`0` (no cap)' },
  MAX_SESSIONS_PER_TENANT: {
    meaning: "live sessions across one tenant's users; always rejects (429 `session-limit`)",
    default: '`0` (no cap)',
  },
  USER_DAILY_MINUTES: { meaning: 'minutes one user may use per calendar day', default: '`0` (no budget)' },
  USER_MONTHLY_MINUTES: {
    meaning: 'minutes one user may use per calendar month',
    default: '`0` (no budget)',
  },
  TENANT_DAILY_MINUTES: {
    meaning: "minutes one tenant's users may use together per day",
    default: '`0` (no budget)',
  },
  TENANT_MONTHLY_MINUTES: {
    meaning: "minutes one tenant's users may use together per month",
    default: '`0` (no budget)',
  },
  SERVICE_DAILY_MINUTES: {
    meaning: 'minutes all users together may use per day: the spend breaker',
    default: '`0` (no budget)',
  },
  BUDGET_TIME_ZONE: { meaning: 'IANA zone whose calendar days and months the budgets and usage use' },
  USAGE_RETENTION_DAYS: { meaning: 'days the daily usage aggregates are kept (1–3660)' },
  RATE_LIMIT_PER_MINUTE: { meaning: '`POST /session` per user' },
  RATE_LIMIT_IP_PER_MINUTE: { meaning: 'authenticated routes per client IP, counted before authentication' },
  REDIS_URL: {
    meaning: '`redis://` or `rediss://`; the store shared by replicas',
    default: 'none (in-process store)',
    required: 'for more than one replica',
  },
  REDIS_KEY_PREFIX: {
    meaning:
      'prefix of every key (every key also carries one hash tag, so all scripts work on a Cluster); without `{` or `}`',
  },
  REDIS_CLUSTER_NODES: {
    meaning:
      'comma-separated `host:port` seeds of a Redis Cluster; scheme (TLS), user and password from `REDIS_URL` when set (see docs/redis-production.md)',
    default: 'none',
  },
  REDIS_SENTINELS: {
    meaning:
      'comma-separated Sentinel `host:port` list; scheme (TLS), user, password and database of the master from `REDIS_URL` when set',
    default: 'none',
    required: 'with `REDIS_SENTINEL_MASTER`',
  },
  REDIS_SENTINEL_MASTER: {
    meaning: 'the name the Sentinels monitor the master under',
    default: 'none',
    required: 'with `REDIS_SENTINELS`',
  },
  REDIS_TLS_CA_FILE: {
    meaning:
      "PEM file of the private CA that signed the Redis servers' certificates (with `rediss://`); certificates are always checked",
    default: "none: the system's CAs",
  },
  UPSTREAM_TIMEOUT_MS: { meaning: 'per upstream call' },
  SESSION_CREATE_DEADLINE_MS: { meaning: 'the whole `POST /session`' },
  SHUTDOWN_DRAIN_MS: { meaning: 'readiness is 503 this long before the server stops accepting' },
  METRICS_TOKEN: {
    meaning: 'when set, `/metrics` requires `Authorization: Bearer <token>`; unlike every other secret',
    default: 'none',
  },
  ADMIN_TOKEN: {
    meaning:
      'at least 32 characters, unlike every other secret; when set, the `/admin` routes exist and require `Authorization: Bearer <token>`',
    default: 'none: no `/admin` routes',
  },
  EVENTS_WEBHOOK_URL: {
    meaning: 'lifecycle events are delivered here as Standard Webhooks (no credentials in the URL)',
    default: 'none',
    required: 'with `EVENTS_WEBHOOK_SECRET`',
  },
  EVENTS_WEBHOOK_SECRET: {
    meaning: 'signing secret: `whsec_` and 24 to 64 bytes in base64',
    required: 'with `EVENTS_WEBHOOK_URL`',
  },
  EVENTS_OUTBOX_MAX_JOBS: {
    meaning:
      'undelivered lifecycle events kept at most (across replicas on Redis); beyond it the oldest is dropped and counted in `avaturn_broker_outbox_dropped_total` (terminations are never dropped)',
  },
  PREMINT_POOL_SIZE: {
    meaning:
      'fresh OpenAI client secrets / Cartesia tokens kept ready per profile, so a create waits for one upstream round trip instead of two (see docs/how-it-works.md)',
    default: '`0` (off)',
  },
} satisfies Record<EnvVar, EnvDoc>;
