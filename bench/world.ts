import { brokerEnvFor, type Simulator } from '../src/simulator';
import { signToken, testJwtSecret, testProfiles } from '../test/helpers/build-test-app';

/** The broker profile behind each engine: the test suite's, shaped like a real deployment's. */
export const benchProfiles = { openai: 'default', cartesia: 'support' } as const;

export type BenchProfile = keyof typeof benchProfiles;

/** What the broker reads as PROFILES_FILE. */
export const profilesJson = JSON.stringify(testProfiles);

/** The broker's environment: pointed at the simulator, with limits far above what the bench sends. */
export function brokerEnv(sim: Simulator): Record<string, string> {
  return {
    ...brokerEnvFor(sim),
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
    AUTH_JWT_SECRET: testJwtSecret,
    PROFILES_FILE: 'bench-profiles.json',
    RATE_LIMIT_PER_MINUTE: '10000000',
    RATE_LIMIT_IP_PER_MINUTE: '10000000',
    MAX_SESSIONS_PER_USER: '1000000',
    SHUTDOWN_DRAIN_MS: '0',
  };
}

/** `Bearer` headers for `count` distinct users, valid for the whole run. */
export async function signUserTokens(count: number): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 0; i < count; i++)
    tokens.push(`Bearer ${await signToken({ sub: `bench-user-${i}` }, testJwtSecret, '1h')}`);
  return tokens;
}
