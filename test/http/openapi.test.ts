import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Express } from 'express';
import { ENGINE_TYPES } from '../../src/config/engines';
import { problemCatalog, type ErrorCode } from '../../src/errors';
import { PREFLIGHT_PROBLEM } from '../../src/http/openapi';
import { ROUTES } from '../../src/http/openapi-routes';
import { type TestApp, useTestApp } from '../helpers/build-test-app';
import { createConformanceChecker } from '../helpers/openapi-conformance';
import { validateOpenApi } from '../helpers/openapi-validator';
import type { RecordedResponse } from '../helpers/response-recorder';

const adminToken = 'admin-token-that-is-long-enough-0123456789';
const packageVersion = (
  JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as { version: string }
).version;

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** `METHOD /path/{param}` of every route the Express app serves. */
function routesOf(app: Express): string[] {
  const walk = (stack: Layer[]): string[] =>
    stack.flatMap((layer) =>
      layer.route !== undefined
        ? Object.keys(layer.route.methods).map(
            (method) => `${method.toUpperCase()} ${layer.route!.path.replace(/:(\w+)/g, '{$1}')}`,
          )
        : walk(layer.handle?.stack ?? []),
    );
  return walk((app as unknown as { router: { stack: Layer[] } }).router.stack).sort();
}

type Document = Awaited<ReturnType<typeof fetchDocument>>;

async function fetchDocument(t: TestApp) {
  const res = await t.http.get('/openapi.json');
  expect(res.status).toBe(200);
  return res.body as {
    info: { version: string; description: string };
    paths: Record<string, Record<string, { responses: Record<string, Record<string, unknown>> }>>;
    components: { schemas: Record<string, { properties: Record<string, Record<string, unknown>> }> };
  };
}

/** The codes a documented problem answer may carry. */
function codesOf(document: Document, path: string, method: string, status: number): string[] {
  const response = document.paths[path]?.[method]?.responses[String(status)] as
    | { content?: Record<string, { schema: { allOf: { properties?: { code: { enum: string[] } } }[] } }> }
    | undefined;
  return response?.content?.['application/problem+json']?.schema.allOf[1]?.properties?.code.enum ?? [];
}

describe('GET /openapi.json', () => {
  const t = useTestApp({ env: { ADMIN_TOKEN: adminToken } }, { once: true });
  let document: Document;
  beforeAll(async () => {
    document = await fetchDocument(t);
  });

  it('is a valid OpenAPI 3.1 document, versioned as the package', () => {
    const result = validateOpenApi(document);
    expect(result.errors).toBeUndefined();
    expect(result).toMatchObject({ valid: true, version: '3.1' });
    expect(document.info.version).toBe(packageVersion);
  });

  it('describes exactly the routes the app serves', () => {
    expect(ROUTES.map((route) => `${route.method.toUpperCase()} ${route.path}`).sort()).toEqual(
      routesOf(t.broker.app),
    );
    expect(
      Object.entries(document.paths)
        .flatMap(([path, operations]) => Object.keys(operations).map((m) => `${m.toUpperCase()} ${path}`))
        .sort(),
    ).toEqual(routesOf(t.broker.app));
  });

  it('marks the admin routes as existing only with ADMIN_TOKEN, and answering 404 without it', () => {
    for (const [path, method] of [
      ['/admin/sessions', 'get'],
      ['/admin/users/{user}/sessions', 'delete'],
    ] as const) {
      expect(document.paths[path]?.[method]).toMatchObject({ 'x-only-with': 'ADMIN_TOKEN' });
      expect(codesOf(document, path, method, 404)).toContain('not-found');
    }
  });

  it('lists every status and problem code the routes are known to produce', () => {
    const expected: [string, string, number, ErrorCode[]][] = [
      ['/session', 'post', 400, ['invalid-request', 'unknown-profile']],
      ['/session', 'post', 429, ['budget-exhausted', 'rate-limited', 'session-limit']],
      ['/session', 'post', 503, ['not-ready', 'upstream-unavailable']],
      ['/session', 'post', 413, ['payload-too-large']],
      ['/session', 'post', 415, ['unsupported-media-type']],
      ['/session/{id}', 'delete', 404, ['not-found']],
      ['/session/{id}', 'delete', 502, ['upstream-error']],
      ['/session/{id}', 'delete', 504, ['upstream-timeout']],
      ['/sessions', 'get', 503, ['not-ready', 'upstream-unavailable']],
      ['/readyz', 'get', 503, ['not-ready']],
      ['/metrics', 'get', 401, ['unauthenticated']],
      ['/admin/sessions', 'get', 400, ['invalid-request']],
      ['/admin/users/{user}/sessions', 'delete', 503, ['not-ready', 'upstream-unavailable']],
      ['/session', 'post', 403, ['forbidden']],
      ['/me/limits', 'get', 403, ['forbidden']],
      ['/admin/tenants/{tenant}/limits', 'put', 400, ['invalid-request']],
      ['/admin/usage', 'get', 400, ['invalid-request']],
    ];
    for (const [path, method, status, codes] of expected)
      expect([path, method, status, codesOf(document, path, method, status).sort()]).toEqual([
        path,
        method,
        status,
        codes,
      ]);
    // Every code of the catalog is answered somewhere, and nothing outside it is.
    const documented = new Set(
      Object.entries(document.paths).flatMap(([path, operations]) =>
        Object.entries(operations).flatMap(([method, op]) =>
          Object.keys(op.responses).flatMap((status) => codesOf(document, path, method, Number(status))),
        ),
      ),
    );
    expect([...new Set([...documented, PREFLIGHT_PROBLEM])].sort()).toEqual(
      Object.keys(problemCatalog).sort(),
    );
    expect(document.info.description).toContain(`403 \`${PREFLIGHT_PROBLEM}\``);
  });

  it('takes its enumerations from the code', () => {
    const { Problem, AdminSessionList } = document.components.schemas;
    expect(Problem!.properties.code!.enum).toEqual(Object.keys(problemCatalog));
    const item = (AdminSessionList!.properties.sessions!.items as { properties: Record<string, unknown> })
      .properties;
    expect(item.engine).toMatchObject({ enum: ENGINE_TYPES });
  });

  it('describes each parameter as the route takes it, required or not', () => {
    const parameters = Object.values(document.paths).flatMap((operations) =>
      Object.values(operations).flatMap(
        (op) =>
          (op as unknown as { parameters: { name: string; in: string; required: boolean }[] }).parameters,
      ),
    );
    expect(parameters.map(({ name, in: where, required }) => [name, where, required])).toEqual([
      ['Idempotency-Key', 'header', false],
      ['id', 'path', true],
      ['id', 'path', true],
      ['limit', 'query', false],
      ['user', 'query', false],
      ['tenant', 'query', false],
      ['user', 'path', true],
      ['user', 'path', true],
      ['user', 'path', true],
      ['tenant', 'path', true],
      ['tenant', 'path', true],
      ['from', 'query', true],
      ['to', 'query', true],
      ['group_by', 'query', true],
    ]);
  });

  it('names the profiles of this deployment for POST /session', () => {
    const body = document.paths['/session']!.post as unknown as { requestBody: { description: string } };
    expect(body.requestBody.description).toMatch(/default, support/);
  });
});

describe('the response-conformance check', () => {
  const t = useTestApp({}, { once: true });
  let checker: ReturnType<typeof createConformanceChecker>;
  let created: RecordedResponse;
  let notFound: RecordedResponse;
  beforeAll(async () => {
    checker = createConformanceChecker((await t.http.get('/openapi.json')).body);
    const bearer = await t.bearer('alice');
    await t.http.post('/session').set('Authorization', bearer).send({});
    await t.http.delete('/session/unknown').set('Authorization', bearer);
    [, created, notFound] = t.responses as [RecordedResponse, RecordedResponse, RecordedResponse];
  });

  const withBody = (response: RecordedResponse, body: unknown): RecordedResponse => ({
    ...response,
    body: Buffer.from(JSON.stringify(body)),
  });
  const withoutHeader = (response: RecordedResponse, name: string): RecordedResponse => {
    const { [name]: _, ...headers } = response.headers;
    return { ...response, headers };
  };

  it('passes the real answers', () => {
    expect(t.responses.map((response) => checker.check(response))).toEqual([[], [], []]);
  });

  it('rejects a status the route does not document', () => {
    expect(checker.check({ ...notFound, status: 409 })).toEqual([
      expect.stringMatching(/status 409 is not documented for DELETE \/session\/\{id\}/),
    ]);
  });

  it('rejects a problem code the status does not document', () => {
    const body = JSON.parse(notFound.body.toString()) as Record<string, unknown>;
    expect(checker.check(withBody(notFound, { ...body, code: 'unknown-profile' }))).toEqual([
      expect.stringMatching(/body\/code must be equal to one of the allowed values/),
    ]);
  });

  it('rejects a body with a key the schema does not have, or without one it requires', () => {
    const body = JSON.parse(created.body.toString()) as Record<string, unknown>;
    expect(checker.check(withBody(created, { ...body, model: 'gpt-realtime-2.1' })).join()).toMatch(
      /must NOT have additional properties/,
    );
    const { token: _, ...tokenless } = body;
    expect(checker.check(withBody(created, tokenless)).join()).toMatch(/must have required property 'token'/);
  });

  it('rejects a missing required header, and a header that does not match its schema', () => {
    expect(checker.check(withoutHeader(created, 'location'))).toEqual([
      'required header Location is missing',
    ]);
    expect(checker.check(withoutHeader(notFound, 'x-request-id'))).toContain('X-Request-Id is missing');
    expect(
      checker.check({ ...created, headers: { ...created.headers, 'cache-control': 'max-age=60' } }),
    ).toEqual([expect.stringMatching(/header Cache-Control/)]);
  });

  it('rejects a content type the answer does not document', () => {
    expect(
      checker.check({ ...created, headers: { ...created.headers, 'content-type': 'text/html' } }),
    ).toEqual([expect.stringMatching(/content type "text\/html" is not one of application\/json/)]);
  });

  it('requires any other route to answer 404 not-found', () => {
    expect(checker.check({ ...notFound, method: 'PUT', url: '/session' })).toEqual([]);
    expect(checker.check({ ...created, method: 'PUT', url: '/session' })).toEqual([
      'an undocumented route must answer 404 not-found, not 201',
    ]);
  });
});
