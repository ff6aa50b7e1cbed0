import type { Config } from '../config/types';
import { problemCatalog } from '../errors';

const problem = { $ref: '#/components/schemas/Problem' };
const problemResponse = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: problem } },
});
const bearer = [{ bearerAuth: [] }];
const sessionId = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,128}$' },
};

/** The OpenAPI 3.1 description of every route, served at /openapi.json. */
export function openApiDocument(config: Pick<Config, 'profiles'>) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'avaturn-broker',
      version: '0.1.0',
      description:
        'Starts and ends Avaturn Live sessions for signed-in users. Errors are RFC 9457 problem+json.',
    },
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: {
        Problem: {
          type: 'object',
          required: ['type', 'title', 'status', 'code', 'detail', 'request_id'],
          properties: {
            type: { type: 'string', format: 'uri-reference' },
            title: { type: 'string' },
            status: { type: 'integer' },
            code: { type: 'string', enum: Object.keys(problemCatalog) },
            detail: { type: 'string' },
            request_id: { type: 'string' },
          },
        },
        CreateSessionRequest: {
          type: 'object',
          additionalProperties: false,
          properties: { profile: { type: 'string', enum: Object.keys(config.profiles) } },
        },
        CreatedSession: {
          type: 'object',
          additionalProperties: false,
          required: ['session_id', 'token', 'expires_at'],
          properties: {
            session_id: { type: 'string' },
            token: { type: 'string', description: 'Avaturn session token for the Web SDK.' },
            expires_at: { type: 'string', format: 'date-time' },
          },
        },
        SessionList: {
          type: 'object',
          required: ['sessions'],
          properties: {
            sessions: {
              type: 'array',
              items: {
                type: 'object',
                required: ['session_id', 'profile', 'created_at', 'expires_at'],
                properties: {
                  session_id: { type: 'string' },
                  profile: { type: 'string' },
                  created_at: { type: 'string', format: 'date-time' },
                  expires_at: { type: 'string', format: 'date-time' },
                },
              },
            },
          },
        },
      },
    },
    paths: {
      '/session': {
        post: {
          summary: 'Create a session for the caller',
          security: bearer,
          parameters: [
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: false,
              schema: { type: 'string', minLength: 1, maxLength: 255 },
            },
          ],
          requestBody: {
            required: false,
            content: {
              'application/json': { schema: { $ref: '#/components/schemas/CreateSessionRequest' } },
            },
          },
          responses: {
            '201': {
              description: 'Created',
              headers: { Location: { schema: { type: 'string' } } },
              content: { 'application/json': { schema: { $ref: '#/components/schemas/CreatedSession' } } },
            },
            '400': problemResponse('invalid-request or unknown-profile'),
            '401': problemResponse('unauthenticated'),
            '409': problemResponse('idempotency-in-progress'),
            '413': problemResponse('payload-too-large'),
            '415': problemResponse('unsupported-media-type'),
            '422': problemResponse('idempotency-key-reused'),
            '429': problemResponse('rate-limited or session-limit'),
            '502': problemResponse('upstream-error'),
            '503': problemResponse('upstream-unavailable or not-ready'),
            '504': problemResponse('upstream-timeout'),
          },
        },
      },
      '/session/{id}': {
        delete: {
          summary: "Terminate one of the caller's sessions",
          security: bearer,
          parameters: [sessionId],
          responses: {
            '204': { description: 'Terminated, or had already ended upstream' },
            '401': problemResponse('unauthenticated'),
            '404': problemResponse("not-found: unknown id or another user's session"),
            '429': problemResponse('rate-limited'),
            '503': problemResponse('upstream-unavailable or not-ready'),
          },
        },
      },
      '/session/{id}/end': {
        post: {
          summary:
            'The same as DELETE /session/{id}, for a page being closed: the token is the text/plain body, so the request needs no CORS preflight',
          parameters: [sessionId],
          requestBody: {
            required: true,
            content: { 'text/plain': { schema: { type: 'string', description: 'The bearer JWT' } } },
          },
          responses: {
            '204': { description: 'Terminated, or had already ended upstream' },
            '401': problemResponse('unauthenticated'),
            '404': problemResponse("not-found: unknown id or another user's session"),
            '413': problemResponse('payload-too-large'),
            '429': problemResponse('rate-limited'),
            '503': problemResponse('upstream-unavailable or not-ready'),
          },
        },
      },
      '/sessions': {
        get: {
          summary: "List the caller's live sessions, newest first",
          security: bearer,
          responses: {
            '200': {
              description: 'OK',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/SessionList' } } },
            },
            '401': problemResponse('unauthenticated'),
            '429': problemResponse('rate-limited'),
          },
        },
      },
      '/healthz': {
        get: { summary: 'Liveness', responses: { '200': { description: 'The process serves HTTP' } } },
      },
      '/readyz': {
        get: {
          summary: 'Readiness',
          responses: { '200': { description: 'Ready' }, '503': problemResponse('not-ready') },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics (Bearer METRICS_TOKEN when configured)',
          responses: {
            '200': { description: 'text/plain; version=0.0.4' },
            '401': problemResponse('unauthenticated'),
          },
        },
      },
      '/openapi.json': {
        get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1' } } },
      },
    },
  };
}
