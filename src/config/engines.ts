import { z } from 'zod';
import { agentHeaders, agentUrl, SAMPLE_RATES, sampleRate } from './agent-endpoint';
import { integer, RANGES, text } from './env-parsers';

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

export type EngineType = keyof typeof ENGINES;

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
