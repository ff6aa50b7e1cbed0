import type { z } from 'zod';

/** A profile name; also the only kind of key a problem may echo, as any other key could be pasted data. */
export const PROFILE_NAME = /^[A-Za-z0-9_-]{1,64}$/;

function safeKey(key: PropertyKey): string {
  if (typeof key === 'number') return String(key);
  return typeof key === 'string' && PROFILE_NAME.test(key) ? key : '(unprintable key)';
}

/** Where a problem is, as `a.b.c`; a key that could be pasted data is not printed. */
export function describePath(path: readonly PropertyKey[]): string {
  return path.map(safeKey).join('.');
}

/** The text of one problem: zod's message, except unknown keys, which are named only when printable. */
export function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    return `has unknown ${issue.keys.length === 1 ? 'key' : 'keys'} ${issue.keys.map(safeKey).join(', ')}`;
  }
  // A record reports a bad key under its own message; the key's check says what is wrong.
  if (issue.code === 'invalid_key' && issue.issues[0] !== undefined) return describeIssue(issue.issues[0]);
  return issue.message;
}
