import { z } from 'zod';
import { ENGINE_TYPES } from '../config/engines';
import { problemCatalog, type ErrorCode } from '../errors';
import type { StoreHealth } from '../store/ports';
import { sessionId, userId } from './schemas';

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
  engine: z.enum(ENGINE_TYPES),
});

export const adminSessionList = z.strictObject({ sessions: z.array(adminSession) });

export const terminatedCount = z.strictObject({
  terminated: z.int().min(0).meta({ description: 'How many sessions ended.' }),
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
export type LivenessBody = z.output<typeof liveness>;
export type ReadinessBody = z.output<typeof readiness>;
export type ProblemBody = z.output<typeof problem>;
