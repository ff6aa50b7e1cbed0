import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { hasAgentGrant } from './cartesia-routes';
import { fastApiValidationError } from './fastapi-errors';
import { bearerToken, type Reply } from './http-io';
import { randomId } from './ids';
import type { Ledger } from './ledger';
import type { RouteContext } from './route-def';
import { validate } from './validation';
import { avaturnError } from './vendor-errors';

const defaultMaxDurationSeconds = 3600;
const renderPresets = ['delta', 'golf'];

/** Pydantic's WebsocketUrl: any ws:// or wss:// URL (Avaturn connects to it, the broker restricts it). */
const websocketUrl = z.string().superRefine((value, ctx) => {
  if (!URL.canParse(value)) {
    ctx.addIssue({
      code: 'custom',
      message: 'Input should be a valid URL, relative URL without a base',
      params: { pydanticType: 'url_parsing' },
    });
  } else if (!['ws:', 'wss:'].includes(new URL(value).protocol)) {
    ctx.addIssue({
      code: 'custom',
      message: "URL scheme should be 'ws' or 'wss'",
      params: { pydanticType: 'url_scheme' },
    });
  }
});

const engineSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('openai-realtime'), client_secret: z.string() }),
  z.strictObject({ type: z.literal('cartesia'), access_token: z.string(), agent_id: z.string().min(1) }),
  z.strictObject({
    type: z.literal('external'),
    url: websocketUrl,
    audio: z.strictObject({ user: z.strictObject({ sample_rate: z.literal([16000, 24000]) }) }),
    headers: z.record(z.string(), z.string()).nullable().optional(),
  }),
]);

const createSchema = z.strictObject({
  avatar_id: z.string().min(1).optional(),
  conversation_engine: engineSchema.optional(),
  background: z.enum(['default', 'transparent']).optional(),
  max_duration: z.int().min(60).max(86400).optional(),
  user_absent_timeout: z.int().min(10).optional(),
  // The reference and the newer guides disagree on the name of the render preset.
  model: z.string().optional(),
  render_model: z.string().optional(),
});

type Engine = z.infer<typeof engineSchema>;

function unauthorized(ctx: RouteContext): Reply | undefined {
  return bearerToken(ctx.req) === ctx.keys.avaturn ? undefined : avaturnError(401, 'Invalid API key');
}

/**
 * The credential must be one minted here and still fresh; Cartesia's also needs the agent grant.
 * An external engine's credential is the operator's business: its agent checks it.
 */
function checkEngine(engine: Engine, ledger: Ledger): { error: Reply } | { use: (id: string) => void } {
  if (engine.type === 'external') return { use: () => undefined };
  const [kind, value, field] =
    engine.type === 'openai-realtime'
      ? (['openai-client-secret', engine.client_secret, 'client_secret'] as const)
      : (['cartesia-access-token', engine.access_token, 'access_token'] as const);
  const check = ledger.checkCredential(kind, value);
  if (!check.ok) {
    const problem = check.reason === 'expired' ? 'has expired' : 'was not issued by the engine provider';
    return { error: avaturnError(400, `conversation_engine.${field} ${problem}`) };
  }
  if (kind === 'cartesia-access-token' && !hasAgentGrant(check.credential.request)) {
    return { error: avaturnError(400, 'conversation_engine.access_token lacks the agent grant') };
  }
  return { use: (sessionId) => check.credential.usedBy.push(sessionId) };
}

export function handleCreateSession(ctx: RouteContext): Reply {
  const denied = unauthorized(ctx);
  if (denied) return denied;
  const parsed = validate(createSchema, ctx.body);
  if (!parsed.ok) return fastApiValidationError(parsed.issues);
  const request = parsed.value;
  for (const preset of [request.model, request.render_model]) {
    if (preset !== undefined && !renderPresets.includes(preset)) {
      return avaturnError(400, `Unknown render model; expected one of: ${renderPresets.join(', ')}`);
    }
  }
  const engine = request.conversation_engine && checkEngine(request.conversation_engine, ctx.ledger);
  if (engine && 'error' in engine) return engine.error;

  const sessionId = randomUUID();
  const token = randomId('sim_avt_');
  const maxDuration = request.max_duration ?? defaultMaxDurationSeconds;
  ctx.ledger.startSession(sessionId, token, maxDuration, ctx.body);
  engine?.use(sessionId);
  return { status: 200, json: { session_id: sessionId, token } };
}

export function handleTerminateSession(ctx: RouteContext): Reply {
  const denied = unauthorized(ctx);
  if (denied) return denied;
  const [sessionId = ''] = ctx.params;
  if (!ctx.ledger.endSession(sessionId)) return avaturnError(404, 'Session not found');
  return { status: 200, json: {} };
}
