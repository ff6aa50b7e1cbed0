import { createLocalJWKSet, type FetchImplementation } from 'jose';

export const maxJwksBytes = 64 * 1024;

/** The identity provider's key set could not be had: the token may be fine, so this is a 503. */
export class JwksUnavailableError extends Error {
  constructor(
    readonly reason: string,
    readonly retryAfterMs: number,
    options?: ErrorOptions,
  ) {
    super(`JWKS unavailable: ${reason}`, options);
    this.name = 'JwksUnavailableError';
  }
}

export interface JwksFetchOptions {
  /** How long a failure is remembered: requests meanwhile fail at once instead of fetching. */
  failureCooldownMs: number;
  maxBytes?: number;
  clock?: () => number;
  /** Told about every fetch: `ok`, or why it failed (metrics). Not for fetches skipped in a cooldown. */
  onFetch?: (outcome: 'ok' | 'timeout' | 'unreachable' | 'status' | 'too-large' | 'malformed') => void;
  /** Told the key ids of every key set fetched, before jose starts using it. */
  onKeySet?: (keyIds: string[]) => void;
}

class JwksFailure extends Error {
  constructor(
    message: string,
    readonly outcome: 'status' | 'too-large' | 'malformed',
  ) {
    super(message);
  }
}

/** Reads at most `maxBytes`, cancelling the body (and so the connection) past that. */
async function readCapped(res: Response, maxBytes: number): Promise<string> {
  if (Number(res.headers.get('content-length') ?? 0) > maxBytes) {
    await res.body?.cancel();
    throw new JwksFailure('body over the size cap', 'too-large');
  }
  const reader = res.body?.getReader();
  if (reader === undefined) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (let next = await reader.read(); !next.done; next = await reader.read()) {
    size += next.value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new JwksFailure('body over the size cap', 'too-large');
    }
    chunks.push(next.value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The key ids of a well-formed key set. */
function parseKeySet(text: string): string[] {
  try {
    // A malformed set as a whole is the endpoint's failure; a malformed key in it is the token's.
    const keySet = createLocalJWKSet(JSON.parse(text)).jwks();
    return keySet.keys.flatMap((key) => (typeof key.kid === 'string' ? [key.kid] : []));
  } catch {
    throw new JwksFailure('not a JSON Web Key Set', 'malformed');
  }
}

/**
 * The fetch jose's remote key set uses: a capped body that must be a well-formed key set, and a
 * failure (status, timeout, size, shape) remembered for a cooldown, since jose itself would
 * refetch on every request while the endpoint is down. Reasons never carry the endpoint's text.
 */
export function createJwksFetch(options: JwksFetchOptions): FetchImplementation {
  const { failureCooldownMs, maxBytes = maxJwksBytes, clock = Date.now } = options;
  const report = options.onFetch ?? (() => undefined);
  let failedAt = Number.NEGATIVE_INFINITY;
  return async (url, init) => {
    const sinceFailure = clock() - failedAt;
    if (sinceFailure < failureCooldownMs)
      throw new JwksUnavailableError('cooling down after a failure', failureCooldownMs - sinceFailure);
    try {
      const res = await fetch(url, init);
      if (res.status !== 200) {
        await res.body?.cancel();
        throw new JwksFailure(`status ${res.status}`, 'status');
      }
      const text = await readCapped(res, maxBytes);
      const keyIds = parseKeySet(text);
      report('ok');
      options.onKeySet?.(keyIds);
      return new Response(text, { status: 200, headers: { 'content-type': 'application/json' } });
    } catch (cause) {
      failedAt = clock();
      const reason = init.signal.aborted
        ? 'timeout'
        : cause instanceof JwksFailure
          ? cause.message
          : 'unreachable';
      report(init.signal.aborted ? 'timeout' : cause instanceof JwksFailure ? cause.outcome : 'unreachable');
      throw new JwksUnavailableError(reason, failureCooldownMs, { cause });
    }
  };
}
