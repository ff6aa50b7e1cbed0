import { z } from 'zod';
import { bearerToken, type Reply } from './http-io';
import { randomId } from './ids';
import type { RouteContext } from './route-def';
import { modelNotFound } from './openai-models';
import { describeValue, isMissing, isObject, issueFields, validate } from './validation';
import { openAiError } from './vendor-errors';

const defaultTtlSeconds = 600;

const mintSchema = z.strictObject({
  expires_after: z
    .strictObject({
      anchor: z.literal('created_at'),
      seconds: z.int().min(10).max(7200).optional(),
    })
    .optional(),
  session: z.looseObject({
    type: z.literal('realtime'),
    model: z.string().min(1),
  }),
});

/** The beta API put these at the top of `session`; GA rejects them. */
const retiredBetaFields = ['voice', 'modalities'];

function validationError(issue: z.core.$ZodIssue): Reply {
  const param = (issueFields(issue)[0] ?? []).join('.');
  if (issue.code === 'unrecognized_keys') {
    return openAiError(400, `Unknown parameter: '${param}'.`, { param, code: 'unknown_parameter' });
  }
  if (isMissing(issue)) {
    return openAiError(400, `Missing required parameter: '${param}'.`, {
      param,
      code: 'missing_required_parameter',
    });
  }
  if (issue.code === 'too_small' || issue.code === 'too_big') {
    const bound = issue.code === 'too_small' ? `>= ${issue.minimum}` : `<= ${issue.maximum}`;
    return openAiError(400, `Invalid '${param}': expected a value ${bound}.`, {
      param,
      code: issue.code === 'too_small' ? 'integer_below_min_value' : 'integer_above_max_value',
    });
  }
  if (issue.code === 'invalid_type') {
    const got = describeValue(issue.input);
    return openAiError(400, `Invalid type for '${param}': expected ${issue.expected}, but got ${got}.`, {
      param,
      code: 'invalid_type',
    });
  }
  return openAiError(400, `Invalid value for '${param}'.`, { param, code: 'invalid_value' });
}

function betaShapeError(body: unknown): Reply | undefined {
  const session = isObject(body) ? body.session : undefined;
  if (!isObject(session)) return undefined;
  const field = retiredBetaFields.find((name) => name in session);
  if (field === undefined) return undefined;
  const param = `session.${field}`;
  return openAiError(400, `Unknown parameter: '${param}'.`, { param, code: 'unknown_parameter' });
}

export function mintClientSecret({ req, body, ledger, keys, models }: RouteContext): Reply {
  if (bearerToken(req) !== keys.openai) {
    return openAiError(401, 'Incorrect API key provided.', { code: 'invalid_api_key' });
  }
  const beta = betaShapeError(body);
  if (beta) return beta;
  const parsed = validate(mintSchema, body);
  if (!parsed.ok) return validationError(parsed.issues[0]!);
  if (!models.serves(parsed.value.session.model)) return modelNotFound(parsed.value.session.model);

  const ttlSeconds = parsed.value.expires_after?.seconds ?? defaultTtlSeconds;
  const credential = ledger.mint('openai-client-secret', randomId('ek_'), ttlSeconds, body);
  return {
    status: 200,
    json: {
      value: credential.value,
      expires_at: Math.floor(credential.expiresAt / 1000),
      session: { ...parsed.value.session, object: 'realtime.session', id: randomId('sess_', 12) },
    },
    headers: { 'x-request-id': randomId('req_', 12) },
  };
}
