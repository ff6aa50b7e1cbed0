import { z } from 'zod';
import { bearerToken, headerValue, type Reply } from './http-io';
import { randomId } from './ids';
import type { RouteContext } from './route-def';
import { isMissing, issueFields, validate } from './validation';
import { cartesiaError } from './vendor-errors';

const defaultTtlSeconds = 60;

const mintSchema = z.strictObject({
  grants: z.strictObject({
    tts: z.boolean().optional(),
    stt: z.boolean().optional(),
    agent: z.boolean().optional(),
  }),
  expires_in: z.int().min(1).max(3600).optional(),
});

export function mintAccessToken({ req, body, ledger, keys }: RouteContext): Reply {
  const presented = bearerToken(req) ?? headerValue(req, 'x-api-key');
  if (presented !== keys.cartesia) {
    return cartesiaError(req, 401, 'unauthorized', 'Invalid or missing API key');
  }
  const version = headerValue(req, 'cartesia-version');
  if (version === undefined) {
    return cartesiaError(req, 400, 'missing_version', 'The Cartesia-Version header is required');
  }
  if (!/^\d{4}-\d{2}-\d{2}$/.test(version)) {
    return cartesiaError(req, 400, 'invalid_version', 'The Cartesia-Version header must be a date');
  }
  const parsed = validate(mintSchema, body);
  if (!parsed.ok) {
    const issue = parsed.issues[0]!;
    const field = (issueFields(issue)[0] ?? []).join('.') || 'body';
    const problem =
      issue.code === 'unrecognized_keys' ? 'is not allowed' : isMissing(issue) ? 'is required' : 'is invalid';
    return cartesiaError(req, 400, 'invalid_request', `${field} ${problem}`);
  }

  const ttlSeconds = parsed.value.expires_in ?? defaultTtlSeconds;
  const credential = ledger.mint('cartesia-access-token', randomId('sim_ctk_'), ttlSeconds, body);
  return { status: 200, json: { token: credential.value } };
}

/** Whether a token minted here may start an agent: only its `agent` grant allows that. */
export function hasAgentGrant(request: unknown): boolean {
  const parsed = mintSchema.safeParse(request);
  return parsed.success && parsed.data.grants.agent === true;
}
