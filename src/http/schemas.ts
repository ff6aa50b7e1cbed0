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

/** A tenant id as the tenant claim must give it. */
export const tenantId = z
  .string()
  .regex(/^[A-Za-z0-9._:@-]{1,128}$/)
  .meta({ description: 'A tenant id (the `AUTH_TENANT_CLAIM` claim).' });

export const adminSessionsFilter = {
  user: userId.optional().meta({ description: "Only this user's sessions." }),
  tenant: tenantId.optional().meta({ description: "Only this tenant's sessions." }),
};

export function parseAdminSessionsFilter(query: Record<string, unknown>): { user?: string; tenant?: string } {
  const parsed = z.strictObject(adminSessionsFilter).safeParse({ user: query.user, tenant: query.tenant });
  if (!parsed.success)
    throw new AppError('invalid-request', '`user` and `tenant` must be single, well-formed ids.');
  return parsed.data;
}

const minutesField = z
  .int()
  .min(0)
  .max(1_000_000)
  .nullable()
  .optional()
  .meta({ description: 'Whole minutes; `0` means no budget; `null` returns to the default.' });

export const limitsPatch = z.strictObject({
  daily_minutes: minutesField,
  monthly_minutes: minutesField,
  max_sessions: z.int().min(0).max(1_000_000).nullable().optional().meta({
    description:
      'Live sessions at most: at least `1` for a user; `0` means no cap for a tenant; `null` returns to the default.',
  }),
});

export type LimitsPatchBody = z.infer<typeof limitsPatch>;

export function parseLimitsPatch(body: unknown, scope: 'user' | 'tenant'): LimitsPatchBody {
  const parsed = limitsPatch.safeParse(body);
  if (!parsed.success)
    throw new AppError(
      'invalid-request',
      'The body may only hold `daily_minutes`, `monthly_minutes` and `max_sessions`, each a whole number from 0 or null.',
    );
  if (scope === 'user' && parsed.data.max_sessions === 0)
    throw new AppError('invalid-request', "A user's `max_sessions` is at least 1.");
  return parsed.data;
}

const calendarDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/)
  .refine((day) => {
    const at = Date.parse(`${day}T00:00:00Z`);
    return Number.isFinite(at) && new Date(at).toISOString().slice(0, 10) === day;
  });

export const USAGE_GROUPS = ['user', 'tenant', 'profile', 'day'] as const;

export const usageQuery = {
  from: calendarDate.meta({ description: 'First day, `YYYY-MM-DD` in `BUDGET_TIME_ZONE` (inclusive).' }),
  to: calendarDate.meta({
    description: 'Last day, `YYYY-MM-DD` (inclusive); at most 366 days after `from`.',
  }),
  group_by: z.enum(USAGE_GROUPS).meta({ description: 'What each row adds up.' }),
};

export function parseUsageQuery(query: Record<string, unknown>): z.infer<z.ZodObject<typeof usageQuery>> {
  const parsed = z
    .strictObject(usageQuery)
    .safeParse({ from: query.from, to: query.to, group_by: query.group_by });
  if (!parsed.success)
    throw new AppError(
      'invalid-request',
      '`from` and `to` must be dates (YYYY-MM-DD) and `group_by` one of user, tenant, profile, day.',
    );
  return parsed.data;
}
