import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { z } from 'zod';
import type { Config, EngineProfile, EngineType, Profile } from './types';

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
  /** Reads PROFILES_FILE; defaults to fs.readFileSync as UTF-8. */
  readFile?: (path: string) => string;
}

const ENGINES = ['openai-realtime', 'cartesia'] as const;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const BACKGROUNDS = ['default', 'transparent'] as const;
const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];
const PROFILE_NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** Kept verbatim: whitespace may be part of a secret or a prompt. */
const UNTRIMMED = new Set([
  'AVATURN_API_KEY',
  'OPENAI_API_KEY',
  'CARTESIA_API_KEY',
  'AUTH_JWT_SECRET',
  'METRICS_TOKEN',
]);

type Range = readonly [min: number, max?: number];
const RANGES = {
  clientSecretTtl: [10, 7200],
  tokenTtl: [1, 3600],
  maxDuration: [60, 86400],
  userAbsentTimeout: [10],
} as const satisfies Record<string, Range>;

type ErrorMap = (issue: { input?: unknown }) => string;
const orRequired =
  (expected: string): ErrorMap =>
  (issue) =>
    issue.input === undefined ? 'is required' : `must be ${expected}`;

function integer([min, max = Number.MAX_SAFE_INTEGER]: Range) {
  const error = `must be an integer ${max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`}`;
  return { error, schema: z.number({ error }).int({ error }).min(min, { error }).max(max, { error }) };
}

function integerVar(range: Range, fallback: number) {
  const { error, schema } = integer(range);
  return z.string().regex(/^\d+$/, { error }).transform(Number).pipe(schema).default(fallback);
}

function enumVar<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `must be one of ${values.join(', ')}` });
}

function parseUrl(value: string, protocols: string[]): URL | undefined {
  if (!URL.canParse(value)) return undefined;
  const url = new URL(value);
  return protocols.includes(url.protocol) ? url : undefined;
}

const httpUrl = z
  .string()
  .refine((s) => parseUrl(s, ['http:', 'https:']) !== undefined, { error: 'must be an http(s) URL' });

function baseUrlVar(fallback: string) {
  return z
    .string()
    .refine((s) => {
      const url = parseUrl(s, ['http:', 'https:']);
      return url !== undefined && !url.search && !url.hash && !url.username && !url.password;
    }, 'must be an http(s) URL without credentials, query or fragment')
    .transform((s) => new URL(s).href.replace(/\/+$/, ''))
    .default(fallback);
}

/** Header-bound secrets: a stray newline from a copy-paste would otherwise fail only at request time. */
const headerSecret = z
  .string({ error: 'is required' })
  .regex(/^[\x21-\x7e]+$/, { error: 'must be printable ASCII without spaces' });

function listEntries(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function toOrigin(entry: string): string | undefined {
  const url = parseUrl(entry, ['http:', 'https:']);
  const bare = url && url.pathname === '/' && !/[/?#@]/.test(entry.slice(url.protocol.length + 2));
  return bare ? url.origin : undefined;
}

const corsOrigins = z
  .string()
  .transform((value, ctx) => {
    const entries = listEntries(value);
    entries.forEach((entry, i) => {
      if (toOrigin(entry) === undefined) {
        ctx.issues.push({
          code: 'custom',
          input: value,
          message: `entry ${i + 1} must be an exact origin like https://app.example.com (scheme://host[:port], no path, no *)`,
        });
      }
    });
    return [...new Set(entries.map((entry) => toOrigin(entry) ?? ''))];
  })
  .default([]);

function isSubnet(entry: string): boolean {
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}

const trustProxy = z
  .string()
  .transform((value, ctx): number | string[] | false => {
    if (/^(false|0)$/i.test(value)) return false;
    if (/^true$/i.test(value)) {
      ctx.issues.push({
        code: 'custom',
        input: value,
        message:
          'true is refused: it trusts every X-Forwarded-For hop, so any client could forge its IP and dodge the per-IP rate limit; set the hop count of your proxies (e.g. 1) or their subnets',
      });
      return z.NEVER;
    }
    if (/^\d+$/.test(value)) {
      if (Number.isSafeInteger(Number(value))) return Number(value);
      ctx.issues.push({ code: 'custom', input: value, message: 'must be a hop count no larger than 2^53' });
      return z.NEVER;
    }
    const entries = listEntries(value);
    entries.forEach((entry, i) => {
      if (!PROXY_NAMES.includes(entry) && !isSubnet(entry)) {
        ctx.issues.push({
          code: 'custom',
          input: value,
          message: `entry ${i + 1} must be an IP address, a CIDR subnet or one of ${PROXY_NAMES.join(', ')} (or the whole value a hop count)`,
        });
      }
    });
    return entries.length === 0 ? false : entries;
  })
  .default(false);

const envSchema = z.object({
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
    .regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'must be a date like 2025-04-16' })
    .default('2025-04-16'),
  AUTH_JWT_SECRET: z
    .string()
    .refine((s) => Buffer.byteLength(s, 'utf8') >= 32, { error: 'must be at least 32 bytes' })
    .optional(),
  AUTH_JWKS_URL: httpUrl.optional(),
  AUTH_ISSUER: z.string().optional(),
  AUTH_AUDIENCE: z.string().optional(),
  AUTH_USER_CLAIM: z.string().default('sub'),
  CORS_ORIGINS: corsOrigins,
  TRUST_PROXY: trustProxy,
  PROFILES_FILE: z.string().optional(),
  SESSION_ENGINE: enumVar(ENGINES).default('openai-realtime'),
  OPENAI_REALTIME_MODEL: z.string().default('gpt-realtime'),
  OPENAI_REALTIME_VOICE: z.string().optional(),
  OPENAI_REALTIME_INSTRUCTIONS: z.string().optional(),
  OPENAI_CLIENT_SECRET_TTL_SECONDS: integerVar(RANGES.clientSecretTtl, 600),
  CARTESIA_AGENT_ID: z.string().optional(),
  CARTESIA_TOKEN_TTL_SECONDS: integerVar(RANGES.tokenTtl, 300),
  AVATURN_AVATAR_ID: z.string().optional(),
  AVATURN_BACKGROUND: enumVar(BACKGROUNDS).optional(),
  SESSION_MAX_DURATION_SECONDS: integerVar(RANGES.maxDuration, 900),
  SESSION_USER_ABSENT_TIMEOUT_SECONDS: integerVar(RANGES.userAbsentTimeout, 60),
  MAX_SESSIONS_PER_USER: integerVar([1], 1),
  SESSION_LIMIT_POLICY: enumVar(['replace-oldest', 'reject']).default('replace-oldest'),
  MAX_SESSIONS_TOTAL: integerVar([0], 0),
  RATE_LIMIT_PER_MINUTE: integerVar([1], 10),
  RATE_LIMIT_IP_PER_MINUTE: integerVar([1], 60),
  REDIS_URL: z
    .string()
    .refine((s) => parseUrl(s, ['redis:', 'rediss:']) !== undefined, {
      error: 'must be a redis:// or rediss:// URL',
    })
    .optional(),
  UPSTREAM_TIMEOUT_MS: integerVar([1], 5000),
  SESSION_CREATE_DEADLINE_MS: integerVar([1], 10000),
  SHUTDOWN_DRAIN_MS: integerVar([0], 5000),
  METRICS_TOKEN: headerSecret.optional(),
});
type Env = z.infer<typeof envSchema>;
type RawEnv = Partial<Record<keyof Env, string>>;

const text = z.string({ error: orRequired('a string') }).min(1, { error: 'must not be empty' });
const fileProfileSchema = z.strictObject(
  {
    engine: z.discriminatedUnion(
      'type',
      [
        z.strictObject({
          type: z.literal('openai-realtime'),
          model: text.optional(),
          voice: text.optional(),
          instructions: text.optional(),
          session: z
            .record(z.string(), z.unknown(), { error: 'must be an object' })
            .refine((s) => !Object.hasOwn(s, 'type'), { error: 'must not set type' })
            .optional(),
          client_secret_ttl_seconds: integer(RANGES.clientSecretTtl).schema.optional(),
        }),
        z.strictObject({
          type: z.literal('cartesia'),
          agent_id: text.optional(),
          token_ttl_seconds: integer(RANGES.tokenTtl).schema.optional(),
        }),
      ],
      {
        error: (issue) =>
          issue.code === 'invalid_union'
            ? orRequired(ENGINES.join(' or '))(issue)
            : orRequired(`an object with a type of ${ENGINES.join(' or ')}`)(issue),
      },
    ),
    avatar: z
      .strictObject(
        { avatar_id: text.optional(), background: enumVar(BACKGROUNDS).optional() },
        { error: 'must be an object' },
      )
      .optional(),
    max_duration_seconds: integer(RANGES.maxDuration).schema.optional(),
    user_absent_timeout_seconds: integer(RANGES.userAbsentTimeout).schema.optional(),
  },
  { error: 'must be an object' },
);
type FileProfile = z.infer<typeof fileProfileSchema>;

function safeKey(key: PropertyKey): string {
  return typeof key === 'string' && PROFILE_NAME.test(key) ? key : '(unprintable key)';
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    return `has unknown ${issue.keys.length === 1 ? 'key' : 'keys'} ${issue.keys.map(safeKey).join(', ')}`;
  }
  return issue.message;
}

function readRawEnv(env: Record<string, string | undefined>): RawEnv {
  const raw: RawEnv = {};
  for (const key of Object.keys(envSchema.shape) as (keyof Env)[]) {
    const value = env[key];
    if (value === undefined || value.trim() === '') continue;
    raw[key] = UNTRIMMED.has(key) ? value : value.trim();
  }
  return raw;
}

interface ProfilesFile {
  profiles: Record<string, FileProfile>;
  engines: { label: string; type: EngineType; hasAgentId: boolean }[];
}

function readProfilesFile(
  path: string,
  readFile: (path: string) => string,
  problems: string[],
): ProfilesFile {
  const result: ProfilesFile = { profiles: Object.create(null), engines: [] };
  let data: unknown;
  try {
    data = JSON.parse(readFile(path));
  } catch (err) {
    const code = err instanceof Error ? (err as NodeJS.ErrnoException).code : undefined;
    problems.push(
      err instanceof SyntaxError
        ? 'PROFILES_FILE: is not valid JSON'
        : `PROFILES_FILE: cannot be read${typeof code === 'string' ? ` (${code})` : ''}`,
    );
    return result;
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    problems.push('PROFILES_FILE: must be a JSON object mapping profile names to profiles');
    return result;
  }
  const entries = Object.entries(data);
  if (entries.length === 0) problems.push('PROFILES_FILE: must define at least one profile');
  entries.forEach(([name, value], i) => {
    const label = PROFILE_NAME.test(name) ? name : `(profile ${i + 1})`;
    if (label !== name) problems.push(`PROFILES_FILE ${label}: the name must match ${PROFILE_NAME.source}`);
    const engine = (value as { engine?: { type?: unknown; agent_id?: unknown } } | null)?.engine;
    const type = ENGINES.find((t) => t === engine?.type);
    if (type) result.engines.push({ label, type, hasAgentId: engine?.agent_id !== undefined });
    const parsed = fileProfileSchema.safeParse(value);
    if (parsed.success) result.profiles[name] = parsed.data;
    for (const issue of parsed.error?.issues ?? []) {
      problems.push(`PROFILES_FILE ${[label, ...issue.path.map(String)].join('.')}: ${describeIssue(issue)}`);
    }
  });
  return result;
}

function checkRequirements(raw: RawEnv, engines: ProfilesFile['engines'], problems: string[]): void {
  if (raw.AUTH_JWT_SECRET !== undefined && raw.AUTH_JWKS_URL !== undefined) {
    problems.push('AUTH_JWT_SECRET, AUTH_JWKS_URL: set only one of them');
  } else if (raw.AUTH_JWT_SECRET === undefined && raw.AUTH_JWKS_URL === undefined) {
    problems.push('AUTH_JWT_SECRET or AUTH_JWKS_URL: one of them is required');
  } else if (raw.AUTH_JWKS_URL !== undefined) {
    if (raw.AUTH_ISSUER === undefined) problems.push('AUTH_ISSUER: is required with AUTH_JWKS_URL');
    if (raw.AUTH_AUDIENCE === undefined) problems.push('AUTH_AUDIENCE: is required with AUTH_JWKS_URL');
  }
  const keys = { 'openai-realtime': 'OPENAI_API_KEY', cartesia: 'CARTESIA_API_KEY' } as const;
  for (const type of ENGINES) {
    const users = engines.filter((e) => e.type === type).map((e) => e.label);
    if (users.length === 0 || raw[keys[type]] !== undefined) continue;
    const reason =
      raw.PROFILES_FILE !== undefined
        ? `PROFILES_FILE uses ${type} in ${users.join(', ')}`
        : `SESSION_ENGINE is ${type}${raw.SESSION_ENGINE === undefined ? ' (the default)' : ''}`;
    problems.push(`${keys[type]}: is required when ${reason}`);
  }
  if (raw.CARTESIA_AGENT_ID !== undefined) return;
  for (const { label, type, hasAgentId } of engines) {
    if (type !== 'cartesia' || hasAgentId) continue;
    problems.push(
      raw.PROFILES_FILE === undefined
        ? 'CARTESIA_AGENT_ID: is required when SESSION_ENGINE is cartesia'
        : `PROFILES_FILE ${label}.engine.agent_id: is required unless CARTESIA_AGENT_ID is set`,
    );
  }
}

function omitUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function toProfile(name: string, profile: FileProfile, env: Env): Profile {
  const e = profile.engine;
  const engine: EngineProfile =
    e.type === 'openai-realtime'
      ? omitUndefined({
          type: e.type,
          model: e.model ?? env.OPENAI_REALTIME_MODEL,
          voice: e.voice ?? env.OPENAI_REALTIME_VOICE,
          instructions: e.instructions ?? env.OPENAI_REALTIME_INSTRUCTIONS,
          session: e.session ?? {},
          clientSecretTtlSeconds: e.client_secret_ttl_seconds ?? env.OPENAI_CLIENT_SECRET_TTL_SECONDS,
        })
      : {
          type: e.type,
          agentId: e.agent_id ?? env.CARTESIA_AGENT_ID ?? '',
          tokenTtlSeconds: e.token_ttl_seconds ?? env.CARTESIA_TOKEN_TTL_SECONDS,
        };
  return {
    name,
    engine,
    avatar: omitUndefined({
      avatarId: profile.avatar?.avatar_id ?? env.AVATURN_AVATAR_ID,
      background: profile.avatar?.background ?? env.AVATURN_BACKGROUND,
    }),
    maxDurationSeconds: profile.max_duration_seconds ?? env.SESSION_MAX_DURATION_SECONDS,
    userAbsentTimeoutSeconds: profile.user_absent_timeout_seconds ?? env.SESSION_USER_ABSENT_TIMEOUT_SECONDS,
  };
}

/**
 * Builds the configuration from an environment, without side effects beyond reading PROFILES_FILE.
 * Throws one ConfigError listing every problem found.
 */
export function loadConfig(env: Record<string, string | undefined>, options: LoadConfigOptions = {}): Config {
  const readFile = options.readFile ?? ((path: string) => readFileSync(path, 'utf8'));
  const raw = readRawEnv(env);
  const parsed = envSchema.safeParse(raw);
  const problems = (parsed.error?.issues ?? []).map(
    (issue) => `${issue.path.join('.')}: ${describeIssue(issue)}`,
  );

  const file: ProfilesFile =
    raw.PROFILES_FILE === undefined
      ? { profiles: Object.create(null), engines: [] }
      : readProfilesFile(raw.PROFILES_FILE, readFile, problems);
  const defaultEngine = ENGINES.find((t) => t === (raw.SESSION_ENGINE ?? 'openai-realtime'));
  if (raw.PROFILES_FILE === undefined && defaultEngine) {
    file.profiles.default = { engine: { type: defaultEngine } };
    file.engines.push({ label: 'default', type: defaultEngine, hasAgentId: false });
  }
  checkRequirements(raw, file.engines, problems);

  if (!parsed.success || problems.length > 0) throw new ConfigError([...new Set(problems)]);
  const env_ = parsed.data;
  const profiles: Record<string, Profile> = Object.create(null);
  for (const [name, profile] of Object.entries(file.profiles))
    profiles[name] = toProfile(name, profile, env_);

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
    }),
    corsOrigins: env_.CORS_ORIGINS,
    trustProxy: env_.TRUST_PROXY,
    profiles,
    limits: {
      maxSessionsPerUser: env_.MAX_SESSIONS_PER_USER,
      sessionLimitPolicy: env_.SESSION_LIMIT_POLICY,
      maxSessionsTotal: env_.MAX_SESSIONS_TOTAL,
      rateLimitPerMinute: env_.RATE_LIMIT_PER_MINUTE,
      rateLimitIpPerMinute: env_.RATE_LIMIT_IP_PER_MINUTE,
    },
    ...omitUndefined({ redisUrl: env_.REDIS_URL, metricsToken: env_.METRICS_TOKEN }),
    timeouts: {
      upstreamMs: env_.UPSTREAM_TIMEOUT_MS,
      sessionCreateDeadlineMs: env_.SESSION_CREATE_DEADLINE_MS,
      shutdownDrainMs: env_.SHUTDOWN_DRAIN_MS,
    },
    bodyLimitBytes: 4096,
  };
}
