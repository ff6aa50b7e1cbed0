import { isIP } from 'node:net';
import { z } from 'zod';

const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

export type Range = readonly [min: number, max?: number];
/** Shared by a variable and the PROFILES_FILE field that overrides it, so both refuse the same values. */
export const RANGES = {
  clientSecretTtl: [10, 7200],
  tokenTtl: [1, 3600],
  maxDuration: [60, 86400],
  userAbsentTimeout: [10],
} as const satisfies Record<string, Range>;

type ErrorMap = (issue: { input?: unknown }) => string;
export const orRequired =
  (expected: string): ErrorMap =>
  (issue) =>
    issue.input === undefined ? 'is required' : `must be ${expected}`;

export const text = z.string({ error: orRequired('a string') }).min(1, { error: 'must not be empty' });

/**
 * Why a Redis key prefix cannot be used, or undefined when it can. The store wraps it in one hash
 * tag, `{<prefix>}`, so that every key lands in one slot (standalone, Sentinel and Cluster alike).
 */
export function redisKeyPrefixProblem(prefix: string): string | undefined {
  if (prefix === '') return 'must not be empty (an empty hash tag would spread the keys over slots)';
  if (/[{}]/.test(prefix)) return 'must not contain { or } (the broker wraps it in a hash tag of its own)';
  return undefined;
}

export function integer([min, max = Number.MAX_SAFE_INTEGER]: Range) {
  const error = `must be an integer ${max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`}`;
  return { error, schema: z.number({ error }).int({ error }).min(min, { error }).max(max, { error }) };
}

export function integerVar(range: Range, fallback: number) {
  const { error, schema } = integer(range);
  return z.string().regex(/^\d+$/, { error }).transform(Number).pipe(schema).default(fallback);
}

export function enumVar<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `must be one of ${values.join(', ')}` });
}

export function parseUrl(value: string, protocols: string[]): URL | undefined {
  if (!URL.canParse(value)) return undefined;
  const url = new URL(value);
  return protocols.includes(url.protocol) ? url : undefined;
}

export const httpUrl = z
  .string()
  .refine((s) => parseUrl(s, ['http:', 'https:']) !== undefined, { error: 'must be an http(s) URL' });

/** Credentials in a URL would be dropped by the HTTP client, not sent: refuse them instead. */
export const httpUrlWithoutCredentials = httpUrl.refine(
  (s) => {
    const url = new URL(s);
    return !url.username && !url.password;
  },
  { error: 'must not carry credentials (user:password@); the webhook secret signs every delivery' },
);

export function baseUrlVar(fallback: string) {
  return z
    .string()
    .refine((s) => {
      const url = parseUrl(s, ['http:', 'https:']);
      return url !== undefined && !url.search && !url.hash && !url.username && !url.password;
    }, 'must be an http(s) URL without credentials, query or fragment')
    .transform((s) => new URL(s).href.replace(/\/+$/, ''))
    .default(fallback);
}

/**
 * An HS256 key: any bytes, but at least 32 of them (RFC 7518 section 3.2 asks for the hash size),
 * and no CR or LF: a newline pasted along with the key would sign with a key nobody else holds.
 */
export const hmacKey = z
  .string()
  .refine((s) => Buffer.byteLength(s, 'utf8') >= 32, { error: 'must be at least 32 bytes' })
  .refine((s) => !/[\r\n]/.test(s), {
    error: 'must not contain a line break (CR or LF), e.g. a pasted newline',
  });

/** A Standard Webhooks signing secret: `whsec_` and 24 to 64 bytes in base64, as the libraries expect. */
export const webhookSecret = z.string().refine(
  (s) => {
    const match = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(s);
    const bytes = match ? Buffer.from(match[1]!, 'base64').length : 0;
    return bytes >= 24 && bytes <= 64;
  },
  { error: 'must be whsec_ followed by 24 to 64 bytes in base64' },
);

/** Header-bound secrets: a stray newline from a copy-paste would otherwise fail only at request time. */
export const headerSecret = z
  .string({ error: 'is required' })
  .regex(/^[\x21-\x7e]+$/, { error: 'must be printable ASCII without spaces' });

function listEntries(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function toOrigin(entry: string): string | undefined {
  const url = parseUrl(entry, ['http:', 'https:']);
  const bare = url && url.pathname === '/' && !/[/?#@]/.test(entry.slice(url.protocol.length + 2));
  return bare ? url.origin : undefined;
}

export const corsOrigins = z
  .string()
  .transform((value, ctx) => {
    const entries = listEntries(value);
    entries.forEach((entry, i) => {
      if (toOrigin(entry) === undefined) {
        ctx.issues.push({
          code: 'custom',
          input: value,
          message: `entry ${i + 1} must be an exact origin like https://app.example.com (scheme://host[:port], no path, no *)`,
        });
      }
    });
    return [...new Set(entries.map((entry) => toOrigin(entry) ?? ''))];
  })
  .default([]);

function isSubnet(entry: string): boolean {
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}

export const trustProxy = z
  .string()
  .transform((value, ctx): number | string[] | false => {
    if (/^(false|0)$/i.test(value)) return false;
    if (/^true$/i.test(value)) {
      ctx.issues.push({
        code: 'custom',
        input: value,
        message:
          'true is refused: it trusts every X-Forwarded-For hop, so any client could forge its IP and dodge the per-IP rate limit; set the hop count of your proxies (e.g. 1) or their subnets',
      });
      return z.NEVER;
    }
    if (/^\d+$/.test(value)) {
      if (Number.isSafeInteger(Number(value))) return Number(value);
      ctx.issues.push({ code: 'custom', input: value, message: 'must be a hop count no larger than 2^53' });
      return z.NEVER;
    }
    const entries = listEntries(value);
    entries.forEach((entry, i) => {
      if (!PROXY_NAMES.includes(entry) && !isSubnet(entry)) {
        ctx.issues.push({
          code: 'custom',
          input: value,
          message: `entry ${i + 1} must be an IP address, a CIDR subnet or one of ${PROXY_NAMES.join(', ')} (or the whole value a hop count)`,
        });
      }
    });
    return entries.length === 0 ? false : entries;
  })
  .default(false);

/** An IANA time zone this Node knows (its Intl data decides), e.g. `UTC` or `Europe/Berlin`. */
export const timeZone = z.string().refine(
  (zone) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: zone });
      return true;
    } catch {
      return false;
    }
  },
  { error: 'must be an IANA time zone such as UTC or Europe/Berlin' },
);
