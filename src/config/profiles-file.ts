import { z } from 'zod';
import { agentHeaders, agentUrl, sampleRate } from './agent-endpoint';
import { enumVar, integer, orRequired, RANGES } from './env-parsers';
import { omitUndefined } from './omit-undefined';
import { describeIssue, describePath, PROFILE_NAME } from './problems';
import { profilesFileProblem } from './profiles-file-errors';
import type { EngineProfile, EngineType, Profile } from './types';

const text = z.string({ error: orRequired('a string') }).min(1, { error: 'must not be empty' });

/**
 * Every engine Avaturn runs, declared once. `secret` is the variable the broker needs to mint its
 * credential; `sessionEngine` whether SESSION_ENGINE may pick it for the env-only default profile;
 * `maxDurationSeconds` a cap the engine itself imposes on a session; `schema` its PROFILES_FILE shape.
 */
export const ENGINES = {
  'openai-realtime': {
    secret: 'OPENAI_API_KEY',
    sessionEngine: true,
    maxDurationSeconds: { limit: 3600, reason: 'OpenAI ends Realtime sessions at 60 minutes' },
    schema: z.strictObject({
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
  },
  cartesia: {
    secret: 'CARTESIA_API_KEY',
    sessionEngine: true,
    schema: z.strictObject({
      type: z.literal('cartesia'),
      agent_id: text.optional(),
      token_ttl_seconds: integer(RANGES.tokenTtl).schema.optional(),
    }),
  },
  external: {
    secret: 'EXTERNAL_ENGINE_SIGNING_KEY',
    sessionEngine: false,
    schema: z.strictObject({
      type: z.literal('external'),
      url: agentUrl,
      sample_rate: sampleRate,
      headers: agentHeaders.optional(),
    }),
  },
} as const satisfies Record<string, EngineDef>;

interface EngineDef {
  secret: string;
  sessionEngine: boolean;
  maxDurationSeconds?: { limit: number; reason: string };
  schema: z.ZodObject<{ type: z.ZodLiteral<string> }>;
}

export const ENGINE_TYPES = Object.keys(ENGINES) as [EngineType, ...EngineType[]];
export const engineDef = (type: EngineType): EngineDef => ENGINES[type];
/** The engines the env-only default profile can run: those with no setting only a file can give. */
export const SESSION_ENGINES = ENGINE_TYPES.filter((type) => ENGINES[type].sessionEngine) as [
  EngineType,
  ...EngineType[],
];
export const BACKGROUNDS = ['default', 'transparent'] as const;
export const RENDER_MODELS = ['delta', 'golf'] as const;

type EngineSchema = (typeof ENGINES)[EngineType]['schema'];
const engineSchemas = ENGINE_TYPES.map((type) => ENGINES[type].schema) as [EngineSchema, ...EngineSchema[]];

const fileProfileSchema = z.strictObject(
  {
    engine: z.discriminatedUnion('type', engineSchemas, {
      error: (issue) =>
        issue.code === 'invalid_union'
          ? orRequired(ENGINE_TYPES.join(' or '))(issue)
          : orRequired(`an object with a type of ${ENGINE_TYPES.join(' or ')}`)(issue),
    }),
    avatar: z
      .strictObject(
        {
          avatar_id: text.optional(),
          background: enumVar(BACKGROUNDS).optional(),
          render_model: enumVar(RENDER_MODELS).optional(),
        },
        { error: 'must be an object' },
      )
      .optional(),
    max_duration_seconds: integer(RANGES.maxDuration).schema.optional(),
    user_absent_timeout_seconds: integer(RANGES.userAbsentTimeout).schema.optional(),
  },
  { error: 'must be an object' },
);
type FileProfile = z.infer<typeof fileProfileSchema>;

/** The variables a profile falls back to for whatever it leaves out. */
export interface ProfileDefaults {
  OPENAI_REALTIME_MODEL: string;
  OPENAI_REALTIME_VOICE?: string | undefined;
  OPENAI_REALTIME_INSTRUCTIONS?: string | undefined;
  OPENAI_CLIENT_SECRET_TTL_SECONDS: number;
  CARTESIA_AGENT_ID?: string | undefined;
  CARTESIA_TOKEN_TTL_SECONDS: number;
  AVATURN_AVATAR_ID?: string | undefined;
  AVATURN_BACKGROUND?: (typeof BACKGROUNDS)[number] | undefined;
  AVATURN_RENDER_MODEL?: (typeof RENDER_MODELS)[number] | undefined;
  SESSION_MAX_DURATION_SECONDS: number;
  SESSION_USER_ABSENT_TIMEOUT_SECONDS: number;
}

/** What the requirement checks need to know of a profile, read even when the profile is invalid. */
export interface EngineUse {
  label: string;
  type: EngineType;
  hasAgentId: boolean;
  /** The file's max_duration_seconds as written; undefined when the profile takes the variable's. */
  maxDurationSeconds: unknown;
}

export interface ProfilesFile {
  profiles: Record<string, FileProfile>;
  engines: EngineUse[];
}

/** Without PROFILES_FILE, one profile named default runs SESSION_ENGINE with the variables' settings. */
export function defaultProfiles(sessionEngine = 'openai-realtime'): ProfilesFile {
  const result: ProfilesFile = { profiles: Object.create(null), engines: [] };
  const type = SESSION_ENGINES.find((t) => t === sessionEngine);
  const profile = type && fileProfileSchema.safeParse({ engine: { type } });
  if (type && profile?.success) {
    result.profiles.default = profile.data;
    result.engines.push({ label: 'default', type, hasAgentId: false, maxDurationSeconds: undefined });
  }
  return result;
}

export function readProfilesFile(
  path: string,
  readFile: (path: string) => string,
  problems: string[],
): ProfilesFile {
  const result: ProfilesFile = { profiles: Object.create(null), engines: [] };
  let data: unknown;
  let text: string | undefined;
  try {
    text = readFile(path);
    data = JSON.parse(text);
  } catch (err) {
    problems.push(profilesFileProblem(path, err, text));
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
    const raw = value as { engine?: { type?: unknown; agent_id?: unknown }; max_duration_seconds?: unknown };
    const type = ENGINE_TYPES.find((t) => t === raw?.engine?.type);
    if (type) {
      const hasAgentId = raw.engine?.agent_id !== undefined;
      result.engines.push({ label, type, hasAgentId, maxDurationSeconds: raw.max_duration_seconds });
    }
    const parsed = fileProfileSchema.safeParse(value);
    if (parsed.success) result.profiles[name] = parsed.data;
    for (const issue of parsed.error?.issues ?? []) {
      problems.push(`PROFILES_FILE ${describePath([label, ...issue.path])}: ${describeIssue(issue)}`);
    }
  });
  return result;
}

function toEngine(engine: FileProfile['engine'], env: ProfileDefaults): EngineProfile {
  switch (engine.type) {
    case 'openai-realtime':
      return omitUndefined({
        type: engine.type,
        model: engine.model ?? env.OPENAI_REALTIME_MODEL,
        voice: engine.voice ?? env.OPENAI_REALTIME_VOICE,
        instructions: engine.instructions ?? env.OPENAI_REALTIME_INSTRUCTIONS,
        session: engine.session ?? {},
        clientSecretTtlSeconds: engine.client_secret_ttl_seconds ?? env.OPENAI_CLIENT_SECRET_TTL_SECONDS,
      });
    case 'cartesia':
      return {
        type: engine.type,
        agentId: engine.agent_id ?? env.CARTESIA_AGENT_ID ?? '',
        tokenTtlSeconds: engine.token_ttl_seconds ?? env.CARTESIA_TOKEN_TTL_SECONDS,
      };
    case 'external':
      return {
        type: engine.type,
        url: engine.url,
        sampleRate: engine.sample_rate,
        headers: engine.headers ?? {},
      };
  }
}

function toProfile(name: string, profile: FileProfile, env: ProfileDefaults): Profile {
  return {
    name,
    engine: toEngine(profile.engine, env),
    avatar: omitUndefined({
      avatarId: profile.avatar?.avatar_id ?? env.AVATURN_AVATAR_ID,
      background: profile.avatar?.background ?? env.AVATURN_BACKGROUND,
      renderModel: profile.avatar?.render_model ?? env.AVATURN_RENDER_MODEL,
    }),
    maxDurationSeconds: profile.max_duration_seconds ?? env.SESSION_MAX_DURATION_SECONDS,
    userAbsentTimeoutSeconds: profile.user_absent_timeout_seconds ?? env.SESSION_USER_ABSENT_TIMEOUT_SECONDS,
  };
}

export function toProfiles(file: ProfilesFile, env: ProfileDefaults): Record<string, Profile> {
  const profiles: Record<string, Profile> = Object.create(null);
  for (const [name, profile] of Object.entries(file.profiles)) profiles[name] = toProfile(name, profile, env);
  return profiles;
}
