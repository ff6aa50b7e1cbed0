import type { z } from 'zod';

type Issue = z.core.$ZodIssue;
type Path = Array<string | number>;

export type Validated<T> = { ok: true; value: T } | { ok: false; issues: Issue[] };

/** `reportInput` tells a missing field (no input) from a wrong one. */
export function validate<T>(schema: z.ZodType<T>, input: unknown): Validated<T> {
  const result = schema.safeParse(input, { reportInput: true });
  return result.success ? { ok: true, value: result.data } : { ok: false, issues: result.error.issues };
}

export function isMissing(issue: Issue): boolean {
  return issue.code === 'invalid_type' && issue.input === undefined;
}

function pathOf(issue: Issue): Path {
  return issue.path.filter((key): key is string | number => typeof key !== 'symbol');
}

/** The field each issue is about; an unrecognized-keys issue is about each unknown key. */
export function issueFields(issue: Issue): Path[] {
  const path = pathOf(issue);
  if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => [...path, key]);
  // zod points at the discriminator itself; the vendors point at the object it discriminates.
  if (issue.code === 'invalid_union' && issue.discriminator !== undefined) return [path.slice(0, -1)];
  return [path];
}

export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
