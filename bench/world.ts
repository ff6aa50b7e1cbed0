import { loadConfig } from '../src/config/load-config';
import type { Profile } from '../src/config/types';
import { avaturnCreateRequest } from '../src/upstreams/avaturn-create-request';
import { brokerEnvFor, defaultSimKeys } from '../src/simulator';
import { clientSecretRequest } from '../src/upstreams/openai-minter';
import { testProfiles } from '../test/fixtures/profiles';
import { signToken, testJwtSecret } from '../test/fixtures/tokens';
import type { BaselineParams } from './baseline-server';
import type { StackParams } from './stack-server';

/** The profile every scenario creates sessions for: OpenAI, the test suite's, shaped like a real one. */
export const benchProfile = 'default';

/** What the broker reads as PROFILES_FILE. */
export const profilesJson = JSON.stringify(testProfiles);

/** The JWT claim that carries the caller's tenant (AUTH_TENANT_CLAIM); every bench token has one. */
const tenantClaim = 'org_id';
/** The bench's users belong to this many tenants, user n to tenant n mod this. */
const tenants = 20;

/** Far above what any run uses (minutes, or sessions per tenant), so that nothing is ever refused. */
const neverRefused = '100000000';

/**
 * The broker's environment, pointed at the fake upstreams: auth with a tenant claim, rate limits,
 * every minute budget and the tenant cap, registry and info-level logging all on, as in
 * production, with limits far above what the bench sends: the budget check and the tenant count
 * run in every reservation all the same.
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
    AUTH_TENANT_CLAIM: tenantClaim,
    MAX_SESSIONS_PER_TENANT: neverRefused,
    USER_DAILY_MINUTES: neverRefused,
    USER_MONTHLY_MINUTES: neverRefused,
    TENANT_DAILY_MINUTES: neverRefused,
    TENANT_MONTHLY_MINUTES: neverRefused,
    SERVICE_DAILY_MINUTES: neverRefused,
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
  return { mode, ...upstreamBodies(upstreamUrl) };
}

/** The stack baseline checks the same tokens the broker does, with the same secret. */
export function stackParams(upstreamUrl: string): StackParams {
  return { ...upstreamBodies(upstreamUrl), jwtSecret: testJwtSecret };
}

function upstreamBodies(upstreamUrl: string) {
  const profile = profileFor(upstreamUrl);
  if (profile.engine.type !== 'openai-realtime') throw new Error('the bench profile must use OpenAI');
  const { conversation_engine: _engine, ...createBody } = avaturnCreateRequest(profile, {
    type: 'openai-realtime',
    client_secret: '',
  });
  return {
    upstreamUrl,
    keys: { openai: defaultSimKeys.openai, avaturn: defaultSimKeys.avaturn },
    mintBody: clientSecretRequest(profile.engine),
    createBody,
    maxDurationSeconds: profile.maxDurationSeconds,
  };
}

/** `Bearer` headers for `count` distinct users, each with a tenant, valid for the whole run. */
export async function signUserTokens(count: number): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 0; i < count; i++)
    tokens.push(
      `Bearer ${await signToken({ sub: `bench-user-${i}`, [tenantClaim]: `bench-tenant-${i % tenants}` }, testJwtSecret, '1h')}`,
    );
  return tokens;
}
