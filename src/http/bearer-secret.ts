import { timingSafeEqual } from 'node:crypto';

/**
 * Whether an Authorization header carries `Bearer <secret>`: the scheme in any case (HTTP auth
 * schemes are case-insensitive), the secret compared in constant time.
 */
export function hasBearerSecret(authorization: string | undefined, secret: string): boolean {
  const match = /^Bearer +(\S+)$/i.exec(authorization ?? '');
  if (match === null) return false;
  const given = Buffer.from(match[1]!);
  const expected = Buffer.from(secret);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
