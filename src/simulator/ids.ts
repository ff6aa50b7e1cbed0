import { randomBytes } from 'node:crypto';

export function randomId(prefix: string, bytes = 24): string {
  return prefix + randomBytes(bytes).toString('base64url');
}
