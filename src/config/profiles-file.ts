import { z } from 'zod';
import {
  BACKGROUNDS,
  ENGINE_TYPES,
  ENGINES,
  RENDER_MODELS,
  SESSION_ENGINES,
  type EngineType,
} from './engines';
import { enumVar, integer, orRequired, RANGES, text } from './env-parsers';
import { omitUndefined } from './omit-undefined';
import { describeIssue, describePath, PROFILE_NAME } from './problems';
import { profilesFileProblem } from './profiles-file-errors';
import type { EngineProfile, Profile } from './types';

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
