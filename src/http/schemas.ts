import { z } from 'zod';
import { AppError } from '../errors';
import { sessionIdPattern } from '../upstreams/session-id';
import { idempotencyKeyPattern } from './idempotent-replay';

/** What the routes accept. The OpenAPI document is generated from these same schemas. */

export const createSessionBody = z.strictObject({
  profile: z
    .string()
    .min(1)
    .max(64)
    .optional()
    .meta({ description: 'A profile the operator configured; `default` when absent.' }),
});

export type CreateSessionBody = z.infer<typeof createSessionBody>;

export function parseCreateSessionBody(body: unknown): CreateSessionBody {
  const parsed = createSessionBody.safeParse(body);
  if (!parsed.success) {
    throw new AppError('invalid-request', 'The body may only hold an optional "profile" string.');
  }
  return parsed.data;
}

export const idempotencyKey = z.string().regex(idempotencyKeyPattern).optional().meta({
  description:
    'Replays the first answer to a repeat with the same key and body (kept 10 minutes after completion).',
});

export const sessionId = z.string().regex(sessionIdPattern).meta({ description: 'An Avaturn session id.' });

/** A user id as the JWT's user claim gives it. */
export const userId = z.string().min(1).max(256);

export const adminListLimit = { default: 1_000, max: 10_000 } as const;

export const adminSessionsLimit = z
  .string()
  .regex(/^\d{1,5}$/)
  .transform(Number)
  .pipe(z.int().min(1).max(adminListLimit.max))
  .optional()
  .meta({
    description: `How many sessions to list at most: an integer from 1 to ${adminListLimit.max}; ${adminListLimit.default} when absent.`,
  });

export function parseAdminSessionsLimit(value: unknown): number {
  const parsed = adminSessionsLimit.safeParse(value);
  if (!parsed.success)
    throw new AppError('invalid-request', `limit must be an integer from 1 to ${adminListLimit.max}.`);
  return parsed.data ?? adminListLimit.default;
}
