import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { envSchema } from './load-config';
import type { Config } from './types';

/** What start-up has to say about a configuration that works but is probably not what was meant. */
export interface StartupNotice {
  level: 'info' | 'warn';
  msg: string;
}

/** First segments that only the broker's own variables use: any other name with one is a mistake. */
const ownSegments = new Set([
  'AVATURN',
  'AUTH',
  'CORS',
  'SESSION',
  'PROFILES',
  'PREMINT',
  'EVENTS',
  'TRUST',
  'RATE',
  'MAX',
]);

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length]!;
}

const segment = (name: string) => name.split('_')[0] ?? name;

/**
 * Variables that look like the broker's own but are not (`CORS_ORIGIN`, `AUTH_ISUER`): they are
 * ignored, which otherwise shows only as a feature that silently stays off. Names are printed,
 * values never.
 */
export function unknownVariableNotices(
  env: Record<string, string | undefined>,
  known: readonly string[] = Object.keys(envSchema.shape),
): StartupNotice[] {
  const knownSet = new Set(known);
  return Object.keys(env)
    .filter((name) => env[name] !== undefined && !knownSet.has(name) && name.includes('_'))
    .sort()
    .flatMap((name) => {
      const upper = name.toUpperCase();
      const candidates = known.filter((candidate) => segment(candidate) === segment(upper));
      const [closest] = candidates
        .map((candidate) => ({ candidate, distance: editDistance(upper, candidate) }))
        .sort((a, b) => a.distance - b.distance);
      const own = ownSegments.has(segment(upper));
      if (closest !== undefined && closest.distance <= (own ? 4 : 2))
        return [
          {
            level: 'warn',
            msg: `${name} is not a broker variable and is ignored: did you mean ${closest.candidate}?`,
          },
        ];
      return own ? [{ level: 'warn', msg: `${name} is not a broker variable and is ignored` }] : [];
    });
}

/** Where `.env` was looked for, and whether it was there. */
export function dotenvNotice(path: string, found = existsSync(path)): StartupNotice {
  const where = resolve(path);
  return found
    ? { level: 'info', msg: `read ${where} (variables set in the environment win over it)` }
    : { level: 'info', msg: `no .env at ${where}: the configuration is the environment alone` };
}

export function defaultProfileNotice(config: Pick<Config, 'profiles'>): StartupNotice[] {
  if ('default' in config.profiles) return [];
  return [
    {
      level: 'warn',
      msg:
        'no profile is called "default": every POST /session without a "profile" answers 400 unknown-profile. ' +
        'Name one profile default, or make every client send a profile.',
    },
  ];
}

/** Everything start-up says once the configuration loaded, in order. */
export function startupNotices(
  env: Record<string, string | undefined>,
  config: Pick<Config, 'profiles'>,
  dotenvPath: string,
): StartupNotice[] {
  return [dotenvNotice(dotenvPath), ...unknownVariableNotices(env), ...defaultProfileNotice(config)];
}
