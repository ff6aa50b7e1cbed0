import { createHash } from 'node:crypto';

export interface VerifiedTokensOptions {
  /** Entries kept at most; the least recently verified go first. */
  maxEntries?: number;
  /** How long a verification is trusted at most, so that a key withdrawn from the JWKS stops counting. */
  maxAgeMs?: number;
  clock?: () => number;
}

/**
 * Tokens verified lately. A browser sends one token with each call (create, list, end), and
 * checking its signature again each time is most of what authentication costs. An entry holds the
 * user the token names until the token would be refused anyway (its `exp`, with the tolerance the
 * verification allows) and at most `maxAgeMs`. Keys are the token's SHA-256, so memory stays small
 * whatever the tokens' size; only successful verifications are kept.
 */
export function createVerifiedTokens<Caller = string>(options: VerifiedTokensOptions = {}) {
  const { maxEntries = 10_000, maxAgeMs = 60_000, clock = Date.now } = options;
  const entries = new Map<string, { caller: Caller; until: number; keyId: string | undefined }>();
  /** The key ids of the identity provider's current key set; undefined without a key set (HS256). */
  let currentKeyIds: Set<string> | undefined;
  const keyOf = (token: string) => createHash('sha256').update(token).digest('base64');

  return {
    /** The caller the token was verified for (its user, and tenant where there are tenants). */
    userOf(token: string): Caller | undefined {
      const key = keyOf(token);
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      if (entry.until <= clock()) {
        entries.delete(key);
        return undefined;
      }
      return entry.caller;
    },
    /**
     * `refusedAfterMs`: when the verification would first refuse the token (epoch ms); `keyId`: the
     * `kid` it was verified with, when a key set is in use. A verification that raced a refresh
     * which withdrew its key is not kept.
     */
    remember(token: string, caller: Caller, refusedAfterMs: number, keyId?: string): void {
      const until = Math.min(refusedAfterMs, clock() + maxAgeMs);
      if (until <= clock()) return;
      if (currentKeyIds !== undefined && (keyId === undefined || !currentKeyIds.has(keyId))) return;
      const key = keyOf(token);
      entries.delete(key);
      entries.set(key, { caller, until, keyId });
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
    },
    /**
     * The key set now holds only these key ids: tokens verified with any other key are verified
     * again on their next use. From now on a token without a `kid` is not kept at all.
     */
    keepOnlyKeys(keyIds: string[]): void {
      currentKeyIds = new Set(keyIds);
      for (const [key, entry] of entries) {
        if (entry.keyId === undefined || !currentKeyIds.has(entry.keyId)) entries.delete(key);
      }
    },
  };
}
