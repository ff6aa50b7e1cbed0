import { errors as joseErrors } from 'jose';
import type { AuthConfig } from '../config/types';

const shown = (value: unknown) => JSON.stringify(value)?.slice(0, 200) ?? 'nothing';

/**
 * Why a bearer token was refused, for the operator's log: jose's code and the claim at fault,
 * with what was expected and what came. Claim values are not secrets; the token itself never
 * appears.
 */
export function describeRefusal(err: unknown, config: Pick<AuthConfig, 'issuer' | 'audience'>): string {
  if (err instanceof joseErrors.JWTExpired) return `${err.code}: exp is in the past`;
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    const { claim, reason, payload } = err;
    if (reason === 'missing') return `${err.code}: the token has no ${claim} claim`;
    const expected = claim === 'iss' ? config.issuer : claim === 'aud' ? config.audience : undefined;
    if (expected !== undefined)
      return `${err.code}: ${claim} mismatch: expected ${shown(expected)}, got ${shown(payload[claim])} (compared as exact strings)`;
    return `${err.code}: ${err.message}`;
  }
  if (err instanceof joseErrors.JOSEError) return `${err.code}: ${err.message}`;
  return `not a verifiable JWT: ${err instanceof Error ? err.name : 'unknown error'}`;
}
