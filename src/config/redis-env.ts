import { resolve } from 'node:path';
import { z } from 'zod';
import { parseUrl } from './env-parsers';
import type { RedisConnection, RedisEndpoint } from './types';

/**
 * The variables that say how to reach Redis: one server (`REDIS_URL`), a Cluster
 * (`REDIS_CLUSTER_NODES`) or a Sentinel deployment (`REDIS_SENTINELS`, `REDIS_SENTINEL_MASTER`).
 * In the latter two `REDIS_URL`, when set, gives only its scheme (`rediss:` for TLS), user,
 * password and, with Sentinel, database.
 */
export const redisEnvSchema = {
  REDIS_URL: z
    .string()
    .refine((s) => parseUrl(s, ['redis:', 'rediss:']) !== undefined, {
      error: 'must be a redis:// or rediss:// URL',
    })
    .optional(),
  REDIS_CLUSTER_NODES: endpointList('seed').optional(),
  REDIS_SENTINELS: endpointList('Sentinel').optional(),
  REDIS_SENTINEL_MASTER: z
    .string()
    .regex(/^[\x21-\x7e]+$/, { error: 'must be printable ASCII without spaces' })
    .optional(),
  REDIS_TLS_CA_FILE: z.string().optional(),
};

type RedisEnv = { [K in keyof typeof redisEnvSchema]?: string };
type ParsedRedisEnv = { [K in keyof typeof redisEnvSchema]?: z.infer<(typeof redisEnvSchema)[K]> };

/** `host:port` or `[ipv6]:port`, comma-separated; the host is never echoed in a problem. */
function endpointList(what: string) {
  return z.string().transform((value, ctx): RedisEndpoint[] => {
    const entries = value.split(',').map((s) => s.trim());
    const endpoints: RedisEndpoint[] = [];
    entries.forEach((entry, i) => {
      const endpoint = parseEndpoint(entry);
      if (endpoint === undefined) {
        ctx.issues.push({
          code: 'custom',
          input: value,
          message: `entry ${i + 1} must be a ${what} address as host:port (port 1 to 65535, [brackets] around IPv6)`,
        });
      } else endpoints.push(endpoint);
    });
    return endpoints;
  });
}

function parseEndpoint(entry: string): RedisEndpoint | undefined {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(entry);
  if (match === null) return undefined;
  const port = Number(match[2]);
  if (port < 1 || port > 65535) return undefined;
  const host = match[1]!.startsWith('[') ? match[1]!.slice(1, -1) : match[1]!;
  return { host, port };
}

/** The combinations that cannot work, each a problem naming the variables. */
export function checkRedisRequirements(raw: RedisEnv, problems: string[]): void {
  const sentinel = raw.REDIS_SENTINELS !== undefined || raw.REDIS_SENTINEL_MASTER !== undefined;
  if (raw.REDIS_SENTINELS !== undefined && raw.REDIS_SENTINEL_MASTER === undefined)
    problems.push('REDIS_SENTINEL_MASTER: is required with REDIS_SENTINELS');
  if (raw.REDIS_SENTINEL_MASTER !== undefined && raw.REDIS_SENTINELS === undefined)
    problems.push('REDIS_SENTINELS: is required with REDIS_SENTINEL_MASTER');
  if (raw.REDIS_CLUSTER_NODES !== undefined && sentinel)
    problems.push('REDIS_CLUSTER_NODES, REDIS_SENTINELS: set only one of them (a Cluster or Sentinel)');
  const url = raw.REDIS_URL === undefined ? undefined : parseUrl(raw.REDIS_URL, ['redis:', 'rediss:']);
  if (raw.REDIS_CLUSTER_NODES !== undefined && url !== undefined && !['', '/', '/0'].includes(url.pathname))
    problems.push('REDIS_URL: a Cluster has only database 0; leave the path out');
  if (raw.REDIS_TLS_CA_FILE !== undefined && url?.protocol !== 'rediss:')
    problems.push('REDIS_TLS_CA_FILE: needs REDIS_URL with the rediss:// scheme (TLS)');
}

/**
 * The CA certificates of REDIS_TLS_CA_FILE, read at start like PROFILES_FILE: a file that cannot be
 * read, or holds no PEM certificate, is a start-up problem rather than a failing first connection.
 */
export function readCaFile(path: string, readFile: (path: string) => string, problems: string[]): string {
  let text: string;
  try {
    text = readFile(path);
  } catch (err) {
    const code = err instanceof Error ? (err as NodeJS.ErrnoException).code : undefined;
    problems.push(
      `REDIS_TLS_CA_FILE: cannot be read${typeof code === 'string' ? ` (${code})` : ''}: ${resolve(path)}`,
    );
    return '';
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----'))
    problems.push(
      `REDIS_TLS_CA_FILE: holds no PEM certificate (-----BEGIN CERTIFICATE-----): ${resolve(path)}`,
    );
  return text;
}

/** How to reach Redis, or undefined for the in-process store. */
export function toRedisConnection(env: ParsedRedisEnv, ca: string | undefined): RedisConnection | undefined {
  const common = {
    ...(env.REDIS_URL === undefined ? {} : { url: env.REDIS_URL }),
    ...(ca === undefined ? {} : { ca }),
  };
  if (env.REDIS_CLUSTER_NODES !== undefined)
    return { mode: 'cluster', nodes: env.REDIS_CLUSTER_NODES, ...common };
  if (env.REDIS_SENTINELS !== undefined && env.REDIS_SENTINEL_MASTER !== undefined)
    return {
      mode: 'sentinel',
      sentinels: env.REDIS_SENTINELS,
      masterName: env.REDIS_SENTINEL_MASTER,
      ...common,
    };
  if (env.REDIS_URL !== undefined) return { mode: 'standalone', url: env.REDIS_URL, ...common };
  return undefined;
}
