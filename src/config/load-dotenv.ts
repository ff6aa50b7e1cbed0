import { readFileSync } from 'node:fs';
import { parse } from 'dotenv';

/**
 * The environment with `.env` filled in underneath it: a variable that is really set always wins.
 * Returns a copy, so loadConfig stays a pure function of what it is given.
 */
export function loadDotenv(
  env: Record<string, string | undefined> = process.env,
  path = '.env',
): Record<string, string | undefined> {
  let content: string;
  try {
    content = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ...env };
    throw err;
  }
  const merged: Record<string, string | undefined> = parse(content);
  for (const [name, value] of Object.entries(env)) if (value !== undefined) merged[name] = value;
  return merged;
}
