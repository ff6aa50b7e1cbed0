import type { z } from 'zod';

/** A profile name; also the only kind of key a problem may echo, as any other key could be pasted data. */
export const PROFILE_NAME = /^[A-Za-z0-9_-]{1,64}$/;

function safeKey(key: PropertyKey): string {
  return typeof key === 'string' && PROFILE_NAME.test(key) ? key : '(unprintable key)';
}

/** The text of one problem: zod's message, except unknown keys, which are named only when printable. */
export function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    return `has unknown ${issue.keys.length === 1 ? 'key' : 'keys'} ${issue.keys.map(safeKey).join(', ')}`;
  }
  return issue.message;
}
