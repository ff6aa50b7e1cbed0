import { loadConfig } from '../src/config/load-config';
import type { Profile } from '../src/config/types';
import { avaturnCreateRequest } from '../src/upstreams/avaturn-create-request';
import { brokerEnvFor, defaultSimKeys } from '../src/simulator';
import { clientSecretRequest } from '../src/upstreams/openai-minter';
import { testProfiles } from '../test/fixtures/profiles';
import { signToken, testJwtSecret } from '../test/fixtures/tokens';
import type { BaselineParams } from './baseline-server';

/** The profile every scenario creates sessions for: OpenAI, the test suite's, shaped like a real one. */
export const benchProfile = 'default';

/** What the broker reads as PROFILES_FILE. */
export const profilesJson = JSON.stringify(testProfiles);

/**
 * The broker's environment, pointed at the fake upstreams: auth, limits, registry and info-level
 * logging all on, as in production, with limits far above what the bench sends.
 */
export function brokerEnv(upstreamUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...brokerEnvFor({ url: upstreamUrl, keys: defaultSimKeys }),
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info',
    AUTH_JWT_SECRET: testJwtSecret,
    PROFILES_FILE: 'bench-profiles.json',
    RATE_LIMIT_PER_MINUTE: '10000000',
    RATE_LIMIT_IP_PER_MINUTE: '10000000',
    MAX_SESSIONS_PER_USER: '1000000',
    SHUTDOWN_DRAIN_MS: '0',
    ...extra,
  };
}

function profileFor(upstreamUrl: string): Profile {
  const config = loadConfig(brokerEnv(upstreamUrl), { readFile: () => profilesJson });
  return config.profiles[benchProfile]!;
}

/** The baselines send exactly the bodies the broker sends for the bench profile. */
export function baselineParams(mode: BaselineParams['mode'], upstreamUrl: string): BaselineParams {
  const profile = profileFor(upstreamUrl);
  if (profile.engine.type !== 'openai-realtime') throw new Error('the bench profile must use OpenAI');
  const { conversation_engine: _engine, ...createBody } = avaturnCreateRequest(profile, {
    type: 'openai-realtime',
    client_secret: '',
  });
  return {
    mode,
    upstreamUrl,
    keys: { openai: defaultSimKeys.openai, avaturn: defaultSimKeys.avaturn },
    mintBody: clientSecretRequest(profile.engine),
    createBody,
    maxDurationSeconds: profile.maxDurationSeconds,
  };
}

/** `Bearer` headers for `count` distinct users, valid for the whole run. */
export async function signUserTokens(count: number): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 0; i < count; i++)
    tokens.push(`Bearer ${await signToken({ sub: `bench-user-${i}` }, testJwtSecret, '1h')}`);
  return tokens;
}
