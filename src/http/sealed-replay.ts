import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

/**
 * How an Idempotency-Key's entry is kept so that reading the store gives nothing useful: every
 * secret is derived (HKDF-SHA256) from the key itself, which only the client holds, salted with the
 * user. The store sees a lookup id (neither the user nor the key), a keyed hash of the request's
 * fingerprint, and the answer sealed with AES-256-GCM; the entry's id is the cipher's associated
 * data, so an answer moved to another entry does not open.
 */
export interface SealedScope {
  /** Names the entry in the store: a keyed hash of the user and the key. */
  entryId: string;
  /** The request's fingerprint as the store keeps it: it compares equal, and tells nothing. */
  fingerprint(plain: string): string;
  seal(value: unknown): SealedValue;
  /** The value sealed under this scope; throws UnreadableEntryError when it does not open. */
  open(stored: unknown): unknown;
}

/** What the store keeps instead of the answer. */
export interface SealedValue {
  v: 1;
  iv: string;
  data: string;
}

export class UnreadableEntryError extends Error {
  constructor() {
    super('The stored idempotent answer does not open under this key');
    this.name = 'UnreadableEntryError';
  }
}

const ivBytes = 12;
const tagBytes = 16;

function derive(key: string, userId: string, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', key, userId, `avaturn-broker idempotency ${purpose}`, 32));
}

export function sealedScope(userId: string, key: string): SealedScope {
  const entryId = derive(key, userId, 'lookup').toString('base64url');
  const fingerprintKey = derive(key, userId, 'fingerprint');
  const cipherKey = derive(key, userId, 'response');
  const aad = Buffer.from(entryId);

  return {
    entryId,
    fingerprint: (plain) => createHmac('sha256', fingerprintKey).update(plain).digest('base64url'),
    seal(value) {
      const iv = randomBytes(ivBytes);
      const cipher = createCipheriv('aes-256-gcm', cipherKey, iv).setAAD(aad);
      const data = Buffer.concat([cipher.update(JSON.stringify(value)), cipher.final(), cipher.getAuthTag()]);
      return { v: 1, iv: iv.toString('base64url'), data: data.toString('base64url') };
    },
    open(stored) {
      try {
        const { iv, data } = asSealed(stored);
        const bytes = Buffer.from(data, 'base64url');
        const decipher = createDecipheriv('aes-256-gcm', cipherKey, Buffer.from(iv, 'base64url'), {
          authTagLength: tagBytes,
        })
          .setAAD(aad)
          .setAuthTag(bytes.subarray(bytes.length - tagBytes));
        const plain = Buffer.concat([
          decipher.update(bytes.subarray(0, bytes.length - tagBytes)),
          decipher.final(),
        ]);
        return JSON.parse(plain.toString('utf8')) as unknown;
      } catch (err) {
        throw Object.assign(new UnreadableEntryError(), { cause: err });
      }
    },
  };
}

function asSealed(stored: unknown): SealedValue {
  const value = stored as Partial<SealedValue> | null;
  const ok =
    typeof value === 'object' &&
    value !== null &&
    value.v === 1 &&
    typeof value.iv === 'string' &&
    Buffer.from(value.iv, 'base64url').length === ivBytes &&
    typeof value.data === 'string' &&
    Buffer.from(value.data, 'base64url').length >= tagBytes;
  if (!ok) throw new Error('not a sealed value');
  return value as SealedValue;
}
