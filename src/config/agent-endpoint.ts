import { isIP } from 'node:net';
import { z } from 'zod';
import { orRequired, parseUrl } from './env-parsers';

/** The audio rates Avaturn's external engine speaks. */
export const SAMPLE_RATES = [16000, 24000] as const;

/** RFC 9110 `token`. */
const headerName = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** RFC 9110 `field-value` in ASCII: visible characters, inner spaces and tabs, nothing to trim. */
const headerValue = /^(?:[\x21-\x7e](?:[\x20-\x7e\t]*[\x21-\x7e])?)?$/;
const maxHeaderValueLength = 4096;

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/**
 * Avaturn's servers open this WebSocket and send the session credential on its handshake, so it
 * must be encrypted; plain ws:// is only for an agent on the same machine (development).
 */
export const agentUrl = z.string({ error: orRequired('a string') }).refine(
  (value) => {
    const url = parseUrl(value, ['wss:', 'ws:']);
    if (url === undefined || url.username !== '' || url.password !== '' || url.hash !== '') return false;
    return url.protocol === 'wss:' || isLoopback(url.hostname);
  },
  { error: 'must be a wss:// URL (ws:// only for a loopback host), without credentials or fragment' },
);

export const sampleRate = z.literal(SAMPLE_RATES, {
  error: orRequired(SAMPLE_RATES.join(' or ')),
});

/** Static handshake headers; Authorization is the broker's, for the credential it mints. */
export const agentHeaders = z.record(
  z
    .string()
    .regex(headerName, { error: 'must be a valid HTTP header name' })
    .refine((name) => name.toLowerCase() !== 'authorization', {
      error: 'must not be set: the broker sends the session credential in Authorization',
    }),
  z
    .string({ error: 'must be a string' })
    .max(maxHeaderValueLength, { error: `must be at most ${maxHeaderValueLength} characters` })
    .regex(headerValue, {
      error: 'must be printable ASCII without line breaks or leading and trailing spaces',
    }),
  { error: 'must be an object of header names to values' },
);
