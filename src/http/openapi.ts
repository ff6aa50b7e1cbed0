import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Config } from '../config/types';
import { problemCatalog, type ErrorCode, type ProblemKind } from '../errors';
import {
  AUTH_KINDS,
  HEADERS,
  EVERY_ROUTE,
  RATE_LIMIT_HEADERS,
  ROUTES,
  type HeaderName,
  type ProblemNotes,
  type RouteSpec,
  type SuccessSpec,
} from './openapi-routes';
import { createSessionBody } from './schemas';
import { adminSessionList, createdSession, problem, sessionList, terminatedCount } from './schemas-responses';

type JsonSchema = Record<string, unknown>;

/** Answered to a preflight only, which is no operation of its own: the document says so in words. */
export const PREFLIGHT_PROBLEM: ErrorCode = 'forbidden';

/** Named schemas: a route's schema found here is a `$ref`, any other is written inline. */
const COMPONENTS = {
  CreateSessionRequest: createSessionBody,
  CreatedSession: createdSession,
  SessionList: sessionList,
  AdminSessionList: adminSessionList,
  TerminatedCount: terminatedCount,
  Problem: problem,
} satisfies Record<string, z.ZodType>;

const componentNames = new Map<z.ZodType, string>(
  Object.entries(COMPONENTS).map(([name, schema]) => [schema, name]),
);

/** JSON Schema 2020-12, as OpenAPI 3.1 uses it; requests as they are sent, answers as they are built. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io });
  return rest;
}

function schemaOrRef(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const name = componentNames.get(schema);
  return name === undefined ? jsonSchema(schema, io) : { $ref: `#/components/schemas/${name}` };
}

function headerObject(name: HeaderName, required: boolean) {
  const { description, schema } = HEADERS[name];
  return {
    description: required ? description : `${description} Not always sent.`,
    required,
    schema: jsonSchema(schema, 'output'),
  };
}

/** Headers by name: a reference where `required` holds, an optional header for the rest of `all`. */
function headerObjects(required: Set<HeaderName>, all: Set<HeaderName>) {
  const headers: Record<string, unknown> = {};
  for (const name of Object.keys(HEADERS) as HeaderName[]) {
    if (required.has(name)) headers[name] = { $ref: `#/components/headers/${name}` };
    else if (all.has(name)) headers[name] = headerObject(name, false);
  }
  return headers;
}

/** The headers every answer of that problem code carries. */
export function problemHeaders(code: ErrorCode, limited: boolean): Set<HeaderName> {
  const kind: ProblemKind = problemCatalog[code];
  const names = new Set<HeaderName>(['X-Request-Id', 'Cache-Control']);
  if (kind.retryAfterSeconds !== undefined) names.add('Retry-After');
  for (const name of Object.keys(kind.headers ?? {})) names.add(name as HeaderName);
  if (limited && code === 'rate-limited') for (const name of RATE_LIMIT_HEADERS) names.add(name);
  return names;
}

/** Every code a route can answer, with why: its auth kind's, its own, and those of every route. */
export function routeProblems(route: RouteSpec): ProblemNotes {
  return { ...AUTH_KINDS[route.auth].problems, ...route.problems, ...EVERY_ROUTE };
}

function problemResponse(codes: ErrorCode[], notes: ProblemNotes, limited: boolean) {
  const sets = codes.map((code) => problemHeaders(code, limited));
  const required = new Set([...sets[0]!].filter((name) => sets.every((set) => set.has(name))));
  const all = new Set([...sets.flatMap((set) => [...set]), ...(limited ? RATE_LIMIT_HEADERS : [])]);
  return {
    description: codes.map((code) => `\`${code}\`: ${notes[code] || problemCatalog[code].when}.`).join(' '),
    headers: headerObjects(required, all),
    content: {
      'application/problem+json': {
        schema: {
          allOf: [
            { $ref: '#/components/schemas/Problem' },
            {
              properties: {
                status: { const: problemCatalog[codes[0]!].status },
                code: { enum: codes },
                type: { enum: codes.map((code) => `/problems/${code}`) },
              },
            },
          ],
        },
      },
    },
  };
}

function successResponse(spec: SuccessSpec, limited: boolean) {
  const required = new Set<HeaderName>(['X-Request-Id', ...(spec.headers ?? [])]);
  if (limited) for (const name of RATE_LIMIT_HEADERS) required.add(name);
  const all = new Set([...required, ...(spec.optionalHeaders ?? [])]);
  const content =
    spec.json === undefined && spec.text === undefined
      ? undefined
      : {
          ...(spec.json && { 'application/json': { schema: schemaOrRef(spec.json, 'output') } }),
          ...(spec.text && { [spec.text]: { schema: { type: 'string' } } }),
        };
  return {
    description: spec.description,
    headers: headerObjects(required, all),
    ...(content && { content }),
  };
}

function parameters(route: RouteSpec) {
  const groups = [
    ['path', route.pathParams],
    ['query', route.query],
    ['header', route.requestHeaders],
  ] as const;
  return groups.flatMap(([where, params]) =>
    Object.entries(params ?? {}).map(([name, schema]) => {
      const { description, ...rest } = jsonSchema(schema, 'input');
      return {
        name,
        in: where,
        required: where === 'path' || !schema.safeParse(undefined).success,
        ...(description === undefined ? {} : { description }),
        schema: rest,
      };
    }),
  );
}

function operation(route: RouteSpec, profileNames: string[]) {
  const auth = AUTH_KINDS[route.auth];
  const notes = routeProblems(route);
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of Object.keys(notes) as ErrorCode[]) {
    const { status } = problemCatalog[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: Record<string, unknown> = {};
  for (const [status, spec] of Object.entries(route.responses))
    responses[status] = successResponse(spec, auth.limited);
  for (const status of [...byStatus.keys()].sort())
    responses[String(status)] = problemResponse(byStatus.get(status)!, notes, auth.limited);

  const onlyWith =
    route.onlyWith === undefined
      ? undefined
      : `Exists only when \`${route.onlyWith}\` is set; otherwise it answers 404 like any unknown path.`;
  const requestBody = route.body
    ? {
        required: false,
        ...(route.describeBody && { description: route.describeBody(profileNames) }),
        content: { 'application/json': { schema: schemaOrRef(route.body, 'input') } },
      }
    : route.textBody && {
        required: true,
        description: route.textBody,
        content: { 'text/plain': { schema: { type: 'string' } } },
      };
  const security = auth.scheme !== undefined ? [...(auth.optional ? [{}] : []), { [auth.scheme]: [] }] : [];
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(onlyWith && { description: onlyWith, 'x-only-with': route.onlyWith }),
    security,
    parameters: parameters(route),
    ...(requestBody && { requestBody }),
    responses,
  };
}

function packageVersion(): string {
  // The same from src/http and dist/http: the package root is two levels up.
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** The OpenAPI 3.1 description of every route, served at /openapi.json. */
export function openApiDocument(config: Pick<Config, 'profiles'>) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTES) {
    paths[route.path] = {
      ...paths[route.path],
      [route.method]: operation(route, Object.keys(config.profiles)),
    };
  }
  const referenced = JSON.stringify(paths);
  return {
    openapi: '3.1.0',
    info: {
      title: 'avaturn-broker',
      version: packageVersion(),
      description:
        'Starts and ends Avaturn Live sessions for signed-in users. Errors are RFC 9457 problem+json; ' +
        'any other method or path answers 404 `not-found`. Every answer carries `X-Request-Id`. ' +
        `A CORS preflight (OPTIONS) from an origin that is not in \`CORS_ORIGINS\` answers 403 \`${PREFLIGHT_PROBLEM}\`.`,
    },
    // Relative: the broker that serves this document.
    servers: [{ url: '/', description: 'the broker serving this document' }],
    components: {
      securitySchemes: {
        userJwt: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        adminToken: { type: 'http', scheme: 'bearer', description: 'The `ADMIN_TOKEN` of this deployment.' },
        metricsToken: { type: 'http', scheme: 'bearer', description: 'The `METRICS_TOKEN`, when it is set.' },
      },
      headers: Object.fromEntries(
        (Object.keys(HEADERS) as HeaderName[])
          .filter((name) => referenced.includes(`"#/components/headers/${name}"`))
          .map((name) => [name, headerObject(name, true)]),
      ),
      schemas: Object.fromEntries(
        Object.entries(COMPONENTS).map(([name, schema]) => [
          name,
          jsonSchema(schema, schema === createSessionBody ? 'input' : 'output'),
        ]),
      ),
    },
    paths,
  };
}

export type OpenApiDocument = ReturnType<typeof openApiDocument>;
