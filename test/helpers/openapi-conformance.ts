import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { OpenApiDocument } from '../../src/http/openapi';
import type { RecordedResponse } from './response-recorder';

interface HeaderObject {
  $ref?: string;
  required?: boolean;
  schema?: object;
}

interface ResponseObject {
  headers?: Record<string, HeaderObject>;
  content?: Record<string, { schema: object }>;
}

interface Operation {
  responses: Record<string, ResponseObject>;
}

interface PathEntry {
  template: string;
  pattern: RegExp;
  operations: Record<string, Operation>;
}

const documentId = 'openapi.json';
const pointer = (...segments: string[]) =>
  segments.map((s) => `/${encodeURIComponent(s.replace(/~/g, '~0').replace(/\//g, '~1'))}`).join('');

const mediaType = (value: unknown) =>
  String(value ?? '')
    .split(';')[0]!
    .trim()
    .toLowerCase();
const isJson = (type: string) => type === 'application/json' || type.endsWith('+json');

function parseJson(body: Buffer): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(body.toString('utf8')) };
  } catch {
    return { ok: false };
  }
}

/**
 * Checks recorded answers against an OpenAPI document: the route and status are documented, the
 * content type is one the document names, the body matches its schema, every required header is
 * present and every documented header present matches its schema. Any other method or path must be
 * the document's 404 `not-found` problem.
 */
export function createConformanceChecker(document: OpenApiDocument) {
  const ajv = new Ajv2020({ allErrors: true, strict: false, validateSchema: false });
  addFormats(ajv);
  ajv.addSchema(document, documentId);
  const compiled = new Map<string, ValidateFunction>();
  const validatorAt = (path: string) => {
    let validate = compiled.get(path);
    if (validate === undefined) {
      validate = ajv.compile({ $ref: `${documentId}#${path}` });
      compiled.set(path, validate);
    }
    return validate;
  };

  const paths: PathEntry[] = Object.entries(document.paths).map(([template, operations]) => ({
    template,
    // Express routes match case-insensitively and with or without a trailing slash.
    pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}/?$`, 'i'),
    operations: operations as Record<string, Operation>,
  }));
  const components = document.components.headers as Record<string, HeaderObject>;

  function checkHeaders(where: string[], response: ResponseObject, actual: RecordedResponse, out: string[]) {
    for (const [name, declared] of Object.entries(response.headers ?? {})) {
      const header = declared.$ref === undefined ? declared : components[declared.$ref.split('/').pop()!]!;
      const value = actual.headers[name.toLowerCase()];
      if (value === undefined) {
        if (header.required) out.push(`required header ${name} is missing`);
        continue;
      }
      const schemaPath =
        declared.$ref === undefined
          ? pointer('paths', ...where, 'headers', name, 'schema')
          : pointer('components', 'headers', name, 'schema');
      const validate = validatorAt(schemaPath);
      if (!validate(String(value)))
        out.push(`header ${name}: ${JSON.stringify(value)} ${ajv.errorsText(validate.errors)}`);
    }
  }

  function checkBody(where: string[], response: ResponseObject, actual: RecordedResponse, out: string[]) {
    const type = mediaType(actual.headers['content-type']);
    if (response.content === undefined) {
      if (actual.body.length > 0)
        out.push(`documents no body, but one of ${actual.body.length} bytes was sent`);
      return;
    }
    if (!(type in response.content)) {
      out.push(
        `content type ${JSON.stringify(type)} is not one of ${Object.keys(response.content).join(', ')}`,
      );
      return;
    }
    if (actual.method === 'HEAD' || !isJson(type)) return;
    const body = parseJson(actual.body);
    if (!body.ok) {
      out.push('the body is not JSON');
      return;
    }
    const validate = validatorAt(pointer('paths', ...where, 'content', type, 'schema'));
    if (!validate(body.value)) out.push(`body ${ajv.errorsText(validate.errors, { dataVar: 'body' })}`);
  }

  /** What is wrong with one answer; empty when it conforms. */
  function check(actual: RecordedResponse): string[] {
    const out: string[] = [];
    if (actual.headers['x-request-id'] === undefined) out.push('X-Request-Id is missing');
    // CORS preflights (and Express's own OPTIONS answers) are the browser's protocol, not the API's.
    if (actual.method === 'OPTIONS') return out;
    const path = actual.url.split('?')[0]!;
    const method = actual.method === 'HEAD' ? 'get' : actual.method.toLowerCase();
    const entry = paths.find((candidate) => candidate.pattern.test(path));
    const operation = entry?.operations[method];
    if (entry === undefined || operation === undefined) {
      const body = parseJson(actual.body);
      const code = body.ok ? (body.value as { code?: unknown } | null)?.code : undefined;
      if (actual.status !== 404 || code !== 'not-found')
        out.push(`an undocumented route must answer 404 not-found, not ${actual.status}`);
      return out;
    }
    const response = operation.responses[String(actual.status)];
    if (response === undefined) {
      out.push(`status ${actual.status} is not documented for ${method.toUpperCase()} ${entry.template}`);
      return out;
    }
    const where = [entry.template, method, 'responses', String(actual.status)];
    checkHeaders(where, response, actual, out);
    checkBody(where, response, actual, out);
    return out;
  }

  return { check };
}

export type ConformanceChecker = ReturnType<typeof createConformanceChecker>;

const checkers = new Map<string, ConformanceChecker>();

/** One checker per distinct document (documents differ only by the configured profiles). */
export function conformanceCheckerFor(document: OpenApiDocument): ConformanceChecker {
  const key = JSON.stringify(document);
  let checker = checkers.get(key);
  if (checker === undefined) {
    checker = createConformanceChecker(document);
    checkers.set(key, checker);
  }
  return checker;
}

const maxListed = 20;

/** Throws one error naming every answer that breaks the document, and what is wrong with it. */
export function assertConformance(document: OpenApiDocument, recorded: RecordedResponse[]): void {
  const checker = conformanceCheckerFor(document);
  const failures = recorded.flatMap((response) => {
    const problems = checker.check(response);
    return problems.length === 0
      ? []
      : [
          `${response.method} ${response.url} → ${response.status}:\n${problems.map((p) => `    - ${p}`).join('\n')}`,
        ];
  });
  if (failures.length > 0) {
    const shown = failures.slice(0, maxListed);
    if (failures.length > maxListed) shown.push(`… and ${failures.length - maxListed} more`);
    throw new Error(
      `${failures.length} answer(s) break the OpenAPI document (src/http/openapi-routes.ts):\n  ${shown.join('\n  ')}`,
    );
  }
}
