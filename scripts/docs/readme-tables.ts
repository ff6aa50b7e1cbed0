import { collectDefaultMetrics, Registry } from 'prom-client';
import * as prettier from 'prettier';
import { z } from 'zod';
import { ENV_DOCS, type EnvDoc } from '../../src/config/env-docs';
import { envSchema, type EnvVar } from '../../src/config/load-config';
import { ENGINE_TYPES, engineDef } from '../../src/config/engines';
import { problemCatalog, type ErrorCode } from '../../src/errors';
import { problemHeaders, routeProblems } from '../../src/http/openapi';
import { AUTH_KINDS, ROUTES } from '../../src/http/openapi-routes';
import { createMetrics } from '../../src/metrics';
import { JOB_TOPICS } from '../../src/store/ports';
import { generatedSections } from './markdown';

/**
 * The documents' tables, generated from what they describe: the route table, the problem catalog,
 * the environment schema and the metrics registry. `npm run docs` writes each between its markers,
 * in whichever document holds them; a test fails when a document differs from what this would write.
 */

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const code = (text: string | number) => `\`${text}\``;

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.map(cell).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function routesTable(): string {
  return table(
    ['method', 'path', 'auth', 'what', 'answers'],
    ROUTES.map((route) => {
      const problems = Object.keys(routeProblems(route)) as ErrorCode[];
      const statuses = [
        ...Object.keys(route.responses).map(Number),
        ...new Set(problems.map((c) => problemCatalog[c].status)),
      ].sort();
      const auth = AUTH_KINDS[route.auth].label;
      return [
        route.method.toUpperCase(),
        code(route.path.replace(/\{(\w+)\}/g, ':$1')),
        route.onlyWith === undefined ? auth : `${auth}; only when \`${route.onlyWith}\` is set`,
        route.summary,
        statuses.join(', '),
      ];
    }),
  );
}

/** The headers a code adds beyond those on every answer (`X-Request-Id`, `Cache-Control`). */
function extraHeaders(problemCode: ErrorCode): string {
  const always = new Set(['X-Request-Id', 'Cache-Control']);
  return [...problemHeaders(problemCode, true)]
    .filter((name) => !always.has(name))
    .map(code)
    .join(', ');
}

export function errorsTable(): string {
  return table(
    ['status', 'code', 'when', 'headers'],
    (Object.keys(problemCatalog) as ErrorCode[]).map((c) => [
      String(problemCatalog[c].status),
      code(c),
      problemCatalog[c].when,
      extraHeaders(c),
    ]),
  );
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** The values a variable accepts, as its schema states them (choices, integer ranges). */
function acceptedValues(schema: z.ZodType): string {
  const json = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as {
    type?: string;
    enum?: string[];
    minimum?: number;
    maximum?: number;
  };
  if (json.enum !== undefined) return json.enum.map(code).join(', ');
  if (json.type === 'integer' && json.minimum !== undefined) {
    return json.maximum === undefined || json.maximum >= MAX_SAFE
      ? `integer ≥ ${json.minimum}`
      : `integer ${json.minimum}–${json.maximum}`;
  }
  return '';
}

function engineNeeding(variable: EnvVar): string | undefined {
  const engines = ENGINE_TYPES.filter((type) => engineDef(type).secret === variable);
  return engines.length === 0 ? undefined : `when a profile uses ${engines.map(code).join(' or ')}`;
}

export function configTable(): string {
  const docs: Record<EnvVar, EnvDoc> = ENV_DOCS;
  return table(
    ['variable', 'default', 'required', 'values', 'meaning'],
    (Object.keys(docs) as EnvVar[]).map((variable) => {
      const schema: z.ZodType = envSchema.shape[variable];
      const doc = docs[variable];
      const parsed = schema.safeParse(undefined);
      const fallback = parsed.success ? parsed.data : undefined;
      if (
        doc.default === undefined &&
        fallback !== undefined &&
        !['string', 'number'].includes(typeof fallback)
      )
        throw new Error(`${variable}: say in ENV_DOCS how to show its default`);
      const shown = doc.default ?? (fallback === undefined ? '—' : code(String(fallback)));
      const required = parsed.success ? (engineNeeding(variable) ?? doc.required ?? '') : 'yes';
      return [code(variable), shown, required, acceptedValues(schema), doc.meaning];
    }),
  );
}

interface RegisteredMetric {
  name: string;
  help: string;
  type: string;
  labelNames?: readonly string[];
}

export function metricsTable(): string {
  const metrics = createMetrics({
    liveSessions: async () => 0,
    queueDepth: async () => Object.fromEntries(JOB_TOPICS.map((topic) => [topic, 0])) as never,
    outboxDropped: async () => 0,
    circuitStates: () => ({}),
    modelShutdowns: () => ({}),
  });
  const defaults = new Registry();
  collectDefaultMetrics({ register: defaults });
  const defaultNames = defaults.getMetricsAsArray().map((metric) => metric.name);
  const all = metrics.registry.getMetricsAsArray() as unknown as RegisteredMetric[];
  const defaultOf = (metric: RegisteredMetric) => defaultNames.find((name) => metric.name.endsWith(name));
  const rows = all
    .filter((metric) => defaultOf(metric) === undefined)
    .map((metric) => [
      code(metric.name),
      metric.type,
      (metric.labelNames ?? []).map(code).join(', '),
      metric.help,
    ]);
  // prom-client's process set is listed as one row: it is the library's, and the same in every service.
  const families = new Set(
    all.flatMap((metric) => {
      const name = defaultOf(metric);
      return name === undefined ? [] : [`${metric.name.slice(0, -name.length)}${name.split('_')[0]}_*`];
    }),
  );
  if (families.size > 0)
    rows.push([
      [...families].map(code).join(', '),
      '',
      '',
      "Node.js process metrics (prom-client's default set)",
    ]);
  return table(['metric', 'type', 'labels', 'help'], rows);
}

export const GENERATED_SECTIONS: Record<string, () => string> = {
  routes: routesTable,
  errors: errorsTable,
  config: configTable,
  metrics: metricsTable,
};

/**
 * A document with each generated section it holds rewritten, formatted as Prettier formats the
 * repository. Which document holds which section is the document's choice (its markers).
 */
export async function renderDocument(text: string, path: string): Promise<string> {
  let next = text;
  for (const name of generatedSections(text)) {
    const render = GENERATED_SECTIONS[name];
    if (render === undefined) throw new Error(`${path}: no generated section is called "${name}"`);
    const open = `<!-- generated:${name} -->`;
    const close = `<!-- /generated:${name} -->`;
    const start = next.indexOf(open);
    const end = next.indexOf(close);
    if (end < start) throw new Error(`${path}: ${open} needs its ${close} after it`);
    next = `${next.slice(0, start + open.length)}\n\n${render()}\n\n${next.slice(end)}`;
  }
  const options = await prettier.resolveConfig(path);
  return prettier.format(next, { ...options, filepath: path });
}
