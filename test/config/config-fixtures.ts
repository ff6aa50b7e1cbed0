import { ConfigError, loadConfig } from '../../src/config/load-config';

export const AVATURN_KEY = 'avk_AVATURN-SECRET-4f1c';
export const JWT_SECRET = 'jwt-SECRET-0123456789-abcdefghijklmnop';
export const OPENAI_KEY = 'sk-OPENAI-SECRET-77aa';
export const CARTESIA_KEY = 'sk_car_CARTESIA-SECRET-91';
export const METRICS = 'metrics-SECRET-token';

export const minimal = {
  AVATURN_API_KEY: AVATURN_KEY,
  AUTH_JWT_SECRET: JWT_SECRET,
  OPENAI_API_KEY: OPENAI_KEY,
};

export function readFrom(files: Record<string, string>, path: string): string {
  const content = files[path];
  if (content === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
  return content;
}

export function configErrorOf(
  env: Record<string, string | undefined>,
  files: Record<string, string> = {},
): ConfigError {
  try {
    loadConfig(env, { readFile: (path) => readFrom(files, path) });
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected loadConfig to throw a ConfigError');
}

export const problemsOf = (env: Record<string, string | undefined>, files?: Record<string, string>) =>
  configErrorOf(env, files).problems;
export const messageOf = (env: Record<string, string | undefined>, files?: Record<string, string>) =>
  configErrorOf(env, files).message;
