import { z } from 'zod';
import { ENGINE_TYPES } from '../config/engines';
import { problemCatalog, type ErrorCode } from '../errors';
import type { StoreHealth } from '../store/ports';
import { sessionId, tenantId, USAGE_GROUPS, userId } from './schemas';

/**
 * What the routes answer. The routes build their bodies as these types, the OpenAPI document is
 * generated from these schemas, and the tests check every answer against the document.
 */

const timestamp = z.iso.datetime().meta({ description: 'UTC, ISO 8601 with milliseconds.' });

export const createdSession = z.strictObject({
  session_id: sessionId,
  token: z.string().min(1).meta({ description: 'The Avaturn session token, for the Web SDK.' }),
  expires_at: timestamp.meta({ description: "Creation time plus the profile's max_duration." }),
});

export const sessionSummary = z.strictObject({
  session_id: sessionId,
  profile: z.string(),
  created_at: timestamp,
  expires_at: timestamp,
});

export const sessionList = z.strictObject({ sessions: z.array(sessionSummary) });

export const adminSession = z.strictObject({
  ...sessionSummary.shape,
  user_id: userId,
  tenant: tenantId.optional(),
  engine: z.enum(ENGINE_TYPES),
});

export const adminSessionList = z.strictObject({ sessions: z.array(adminSession) });

export const terminatedCount = z.strictObject({
  terminated: z.int().min(0).meta({ description: 'How many sessions ended.' }),
});

const minutes = z.number().min(0).meta({ description: 'Minutes, to two decimals.' });

export const callerLimits = z.strictObject({
  sessions: z.strictObject({
    live: z.int().min(0).meta({ description: 'Your live sessions.' }),
    max: z.int().min(1).meta({ description: 'The most you may hold at once.' }),
  }),
  budgets: z
    .array(
      z.strictObject({
        scope: z.enum(['user', 'tenant']),
        window: z.enum(['day', 'month']),
        minutes: z.int().min(1).meta({ description: 'The budget of this window.' }),
        used_minutes: minutes.meta({ description: 'Used by ended sessions plus held by live ones.' }),
        left_minutes: minutes,
        resets_at: timestamp.meta({ description: 'When the window ends and the budget is whole again.' }),
      }),
    )
    .meta({ description: "Only the budgets that are set, yours and your tenant's." }),
});

const limitSource = z.enum(['default', 'override']);

export const effectiveLimits = z.strictObject({
  daily_minutes: z.int().min(0),
  monthly_minutes: z.int().min(0),
  max_sessions: z.int().min(0),
  source: z.strictObject({
    daily_minutes: limitSource,
    monthly_minutes: limitSource,
    max_sessions: limitSource,
  }),
});

export const usageReport = z.strictObject({
  from: z.string(),
  to: z.string(),
  group_by: z.enum(USAGE_GROUPS),
  rows: z.array(
    z.strictObject({
      key: z.string().meta({ description: 'The user, tenant, profile or day.' }),
      sessions: z.int().min(0).meta({ description: 'Sessions that ended and were settled.' }),
      seconds: z.int().min(0).meta({ description: 'Their settled seconds.' }),
    }),
  ),
});

export const liveness = z.strictObject({ status: z.literal('ok') });

// The readiness route sends its store's kind as ReadinessBody, so a kind missing here fails to compile.
const STORE_KINDS = ['memory', 'redis'] as const satisfies readonly StoreHealth['kind'][];

export const readiness = z.strictObject({ status: z.literal('ready'), store: z.enum(STORE_KINDS) });

export const ERROR_CODES = Object.keys(problemCatalog) as [ErrorCode, ...ErrorCode[]];

/** RFC 9457 problem details, as every error is answered. */
export const problem = z.strictObject({
  type: z.string().meta({ description: '`/problems/<code>`.' }),
  title: z.string(),
  status: z.int().min(400).max(599),
  code: z.enum(ERROR_CODES),
  detail: z.string().meta({ description: 'For people; never echoes input, stacks or upstream text.' }),
  request_id: z.string().meta({ description: 'The X-Request-Id of this answer.' }),
  scope: z
    .enum(['user', 'tenant', 'service'])
    .optional()
    .meta({ description: '`budget-exhausted` only: whose budget ran out.' }),
  window: z
    .enum(['day', 'month'])
    .optional()
    .meta({ description: '`budget-exhausted` only: which window of it.' }),
});

export const openApiDocumentBody = z.looseObject({
  openapi: z.string(),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.unknown()),
});

export type CreatedSessionBody = z.output<typeof createdSession>;
export type SessionSummary = z.output<typeof sessionSummary>;
export type SessionListBody = z.output<typeof sessionList>;
export type AdminSessionBody = z.output<typeof adminSession>;
export type AdminSessionListBody = z.output<typeof adminSessionList>;
export type TerminatedCountBody = z.output<typeof terminatedCount>;
export type CallerLimitsBody = z.output<typeof callerLimits>;
export type EffectiveLimitsBody = z.output<typeof effectiveLimits>;
export type UsageReportBody = z.output<typeof usageReport>;
export type LivenessBody = z.output<typeof liveness>;
export type ReadinessBody = z.output<typeof readiness>;
export type ProblemBody = z.output<typeof problem>;
