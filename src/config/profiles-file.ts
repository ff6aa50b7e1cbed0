import { z } from 'zod';
import { enumVar, integer, orRequired, RANGES } from './env-parsers';
import { omitUndefined } from './omit-undefined';
import { describeIssue, PROFILE_NAME } from './problems';
import type { EngineProfile, EngineType, Profile } from './types';

export const ENGINES = ['openai-realtime', 'cartesia'] as const;
export const BACKGROUNDS = ['default', 'transparent'] as const;

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
  SESSION_MAX_DURATION_SECONDS: number;
  SESSION_USER_ABSENT_TIMEOUT_SECONDS: number;
}

export interface ProfilesFile {
  profiles: Record<string, FileProfile>;
  engines: { label: string; type: EngineType; hasAgentId: boolean }[];
}

/** Without PROFILES_FILE, one profile named default runs SESSION_ENGINE with the variables' settings. */
export function defaultProfiles(sessionEngine = 'openai-realtime'): ProfilesFile {
  const result: ProfilesFile = { profiles: Object.create(null), engines: [] };
  const type = ENGINES.find((t) => t === sessionEngine);
  if (type) {
    result.profiles.default = { engine: { type } };
    result.engines.push({ label: 'default', type, hasAgentId: false });
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

function toProfile(name: string, profile: FileProfile, env: ProfileDefaults): Profile {
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

export function toProfiles(file: ProfilesFile, env: ProfileDefaults): Record<string, Profile> {
  const profiles: Record<string, Profile> = Object.create(null);
  for (const [name, profile] of Object.entries(file.profiles)) profiles[name] = toProfile(name, profile, env);
  return profiles;
}
