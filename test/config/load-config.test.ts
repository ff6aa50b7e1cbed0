import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/load-config';
import { loadDotenv } from '../../src/config/load-dotenv';
import {
  AVATURN_KEY,
  CARTESIA_KEY,
  configErrorOf,
  JWT_SECRET,
  messageOf,
  METRICS,
  minimal,
  OPENAI_KEY,
  problemsOf,
} from './config-fixtures';

describe('loadConfig', () => {
  describe('with only the required variables', () => {
    it('applies every documented default and one openai-realtime profile named default', () => {
      const config = loadConfig(minimal);

      expect(config).toEqual({
        port: 8080,
        host: '0.0.0.0',
        logLevel: 'info',
        avaturn: { baseUrl: 'https://api.avaturn.live', apiKey: AVATURN_KEY },
        openai: { baseUrl: 'https://api.openai.com/v1', apiKey: OPENAI_KEY },
        cartesia: { baseUrl: 'https://api.cartesia.ai', version: '2026-03-01' },
        auth: { secret: JWT_SECRET, userClaim: 'sub', maxTokenLifetimeSeconds: 86_400 },
        corsOrigins: [],
        trustProxy: false,
        profiles: {
          default: {
            name: 'default',
            engine: {
              type: 'openai-realtime',
              model: 'gpt-realtime-2.1',
              session: {},
              clientSecretTtlSeconds: 600,
            },
            avatar: {},
            maxDurationSeconds: 900,
            userAbsentTimeoutSeconds: 60,
          },
        },
        limits: {
          maxSessionsPerUser: 1,
          maxSessionsPerTenant: 0,
          sessionLimitPolicy: 'replace-oldest',
          maxSessionsTotal: 0,
          rateLimitPerMinute: 10,
          rateLimitIpPerMinute: 60,
        },
        timeouts: { upstreamMs: 5000, sessionCreateDeadlineMs: 10000, shutdownDrainMs: 5000 },
        bodyLimitBytes: 4096,
        budgets: {
          userDailyMinutes: 0,
          userMonthlyMinutes: 0,
          tenantDailyMinutes: 0,
          tenantMonthlyMinutes: 0,
          serviceDailyMinutes: 0,
          timeZone: 'UTC',
          usageRetentionDays: 400,
        },
        redisKeyPrefix: 'avaturn-broker:',
        outboxMaxJobs: 100_000,
        premintPoolSize: 0,
      });
      expect(config.redis).toBeUndefined();
      expect(config.metricsToken).toBeUndefined();
    });

    it('ignores variables it does not know', () => {
      expect(loadConfig({ ...minimal, HOME: '/root', PATH: '/bin' }).port).toBe(8080);
    });

    it('does not resolve inherited names such as toString as profiles', () => {
      expect(loadConfig(minimal).profiles['toString']).toBeUndefined();
    });
  });

  describe('with every variable set', () => {
    it('reads each one into the config', () => {
      const config = loadConfig({
        ...minimal,
        PORT: '3000',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'debug',
        AVATURN_BASE_URL: 'http://127.0.0.1:9000/avaturn//',
        OPENAI_BASE_URL: 'https://openai.example/v1/',
        CARTESIA_API_KEY: CARTESIA_KEY,
        CARTESIA_BASE_URL: 'https://cartesia.example',
        CARTESIA_VERSION: '2026-01-01',
        AUTH_ISSUER: 'https://id.example/',
        AUTH_AUDIENCE: 'my-app',
        AUTH_USER_CLAIM: 'email',
        CORS_ORIGINS: 'https://app.example.com, http://localhost:5173,,',
        TRUST_PROXY: '2',
        OPENAI_REALTIME_MODEL: 'gpt-realtime-2.1-mini',
        OPENAI_REALTIME_VOICE: 'marin',
        OPENAI_REALTIME_INSTRUCTIONS: 'Be brief.',
        OPENAI_CLIENT_SECRET_TTL_SECONDS: '120',
        AVATURN_AVATAR_ID: 'jane_20240829',
        AVATURN_BACKGROUND: 'transparent',
        SESSION_MAX_DURATION_SECONDS: '600',
        SESSION_USER_ABSENT_TIMEOUT_SECONDS: '30',
        MAX_SESSIONS_PER_USER: '3',
        SESSION_LIMIT_POLICY: 'reject',
        MAX_SESSIONS_TOTAL: '100',
        RATE_LIMIT_PER_MINUTE: '5',
        RATE_LIMIT_IP_PER_MINUTE: '50',
        REDIS_URL: 'rediss://user:pw@redis.example:6380/0',
        REDIS_KEY_PREFIX: 'staging:',
        UPSTREAM_TIMEOUT_MS: '2000',
        SESSION_CREATE_DEADLINE_MS: '8000',
        SHUTDOWN_DRAIN_MS: '0',
        METRICS_TOKEN: METRICS,
        PREMINT_POOL_SIZE: '8',
        EVENTS_OUTBOX_MAX_JOBS: '5000',
      });

      expect(config).toMatchObject({
        port: 3000,
        host: '127.0.0.1',
        logLevel: 'debug',
        avaturn: { baseUrl: 'http://127.0.0.1:9000/avaturn' },
        openai: { baseUrl: 'https://openai.example/v1' },
        cartesia: { baseUrl: 'https://cartesia.example', apiKey: CARTESIA_KEY, version: '2026-01-01' },
        auth: { secret: JWT_SECRET, issuer: 'https://id.example/', audience: 'my-app', userClaim: 'email' },
        corsOrigins: ['https://app.example.com', 'http://localhost:5173'],
        trustProxy: 2,
        limits: {
          maxSessionsPerUser: 3,
          sessionLimitPolicy: 'reject',
          maxSessionsTotal: 100,
          rateLimitPerMinute: 5,
          rateLimitIpPerMinute: 50,
        },
        redis: { mode: 'standalone', url: 'rediss://user:pw@redis.example:6380/0' },
        redisKeyPrefix: 'staging:',
        timeouts: { upstreamMs: 2000, sessionCreateDeadlineMs: 8000, shutdownDrainMs: 0 },
        metricsToken: METRICS,
        premintPoolSize: 8,
        outboxMaxJobs: 5000,
      });
      expect(config.profiles).toEqual({
        default: {
          name: 'default',
          engine: {
            type: 'openai-realtime',
            model: 'gpt-realtime-2.1-mini',
            voice: 'marin',
            instructions: 'Be brief.',
            session: {},
            clientSecretTtlSeconds: 120,
          },
          avatar: { avatarId: 'jane_20240829', background: 'transparent' },
          maxDurationSeconds: 600,
          userAbsentTimeoutSeconds: 30,
        },
      });
    });
  });

  describe('when a variable is an empty string', () => {
    it('treats it as unset, so defaults apply and required ones are reported missing', () => {
      expect(loadConfig({ ...minimal, PORT: '', LOG_LEVEL: '  ', CORS_ORIGINS: '' }).port).toBe(8080);
      expect(problemsOf({ ...minimal, AVATURN_API_KEY: '' })).toEqual(['AVATURN_API_KEY: is required']);
    });
  });

  describe('when a number is not a plain integer', () => {
    const numeric = [
      'PORT',
      'OPENAI_CLIENT_SECRET_TTL_SECONDS',
      'CARTESIA_TOKEN_TTL_SECONDS',
      'SESSION_MAX_DURATION_SECONDS',
      'SESSION_USER_ABSENT_TIMEOUT_SECONDS',
      'MAX_SESSIONS_PER_USER',
      'MAX_SESSIONS_TOTAL',
      'RATE_LIMIT_PER_MINUTE',
      'RATE_LIMIT_IP_PER_MINUTE',
      'UPSTREAM_TIMEOUT_MS',
      'SESSION_CREATE_DEADLINE_MS',
      'SHUTDOWN_DRAIN_MS',
      'EVENTS_OUTBOX_MAX_JOBS',
    ];
    const bad = ['10abc', '1.5', '-1', '1e3', '0x10', '+5', 'ten', '99999999999999999999'];

    it.each(numeric)('refuses %s with what it expects, not what it got', (name) => {
      for (const value of bad) {
        const problems = problemsOf({ ...minimal, [name]: value });
        expect(problems).toHaveLength(1);
        expect(problems[0]).toMatch(new RegExp(`^${name}: must be an integer `));
        expect(problems[0]).not.toContain(value);
      }
    });
  });

  describe('when a number is outside its range', () => {
    it.each([
      ['PORT', 0, 65535],
      ['OPENAI_CLIENT_SECRET_TTL_SECONDS', 10, 7200],
      ['CARTESIA_TOKEN_TTL_SECONDS', 1, 3600],
      ['SESSION_USER_ABSENT_TIMEOUT_SECONDS', 10, undefined],
      ['MAX_SESSIONS_PER_USER', 1, undefined],
      ['MAX_SESSIONS_TOTAL', 0, undefined],
      ['RATE_LIMIT_PER_MINUTE', 1, undefined],
      ['RATE_LIMIT_IP_PER_MINUTE', 1, undefined],
      ['PREMINT_POOL_SIZE', 0, 100],
      ['EVENTS_OUTBOX_MAX_JOBS', 1, undefined],
    ] as const)('%s accepts its bounds and refuses one past them', (name, min, max) => {
      expect(() => loadConfig({ ...minimal, [name]: String(min) })).not.toThrow();
      if (min > 0)
        expect(problemsOf({ ...minimal, [name]: String(min - 1) })).toEqual([expect.stringMatching(name)]);
      if (max !== undefined) {
        expect(() => loadConfig({ ...minimal, [name]: String(max) })).not.toThrow();
        expect(problemsOf({ ...minimal, [name]: String(max + 1) })).toEqual([
          `${name}: must be an integer from ${min} to ${max}`,
        ]);
      }
    });
  });

  describe('when an enum has an unknown value', () => {
    it.each([
      ['SESSION_ENGINE', 'gemini'],
      ['SESSION_LIMIT_POLICY', 'replace-newest'],
      ['LOG_LEVEL', 'verbose'],
      ['AVATURN_BACKGROUND', 'green'],
    ])('refuses %s and lists the allowed values', (name, value) => {
      const problems = problemsOf({ ...minimal, [name]: value });
      expect(problems).toEqual([expect.stringMatching(new RegExp(`^${name}: must be one of `))]);
      expect(problems[0]).not.toContain(value);
    });
  });

  describe('when a URL is not usable', () => {
    it.each([
      ['AVATURN_BASE_URL', 'ftp://files.example'],
      ['OPENAI_BASE_URL', 'not a url'],
      ['CARTESIA_BASE_URL', 'https://api.example/?key=abc'],
      ['AVATURN_BASE_URL', 'https://user:pw@api.example'],
      ['REDIS_URL', 'http://redis.example:6379'],
    ])('refuses %s', (name, value) => {
      expect(problemsOf({ ...minimal, [name]: value })).toEqual([
        expect.stringMatching(new RegExp(`^${name}: `)),
      ]);
    });

    it('accepts redis:// and rediss:// for REDIS_URL', () => {
      expect(loadConfig({ ...minimal, REDIS_URL: 'redis://127.0.0.1:6379' }).redis).toEqual({
        mode: 'standalone',
        url: 'redis://127.0.0.1:6379',
      });
    });
  });

  describe('REDIS_KEY_PREFIX', () => {
    it.each([
      ['{avaturn}:', 'must not contain { or } (the broker wraps it in a hash tag of its own)'],
      ['a}b', 'must not contain { or } (the broker wraps it in a hash tag of its own)'],
    ])('refuses %j: every key carries the prefix as its one hash tag', (value, problem) => {
      expect(problemsOf({ ...minimal, REDIS_KEY_PREFIX: value })).toEqual([`REDIS_KEY_PREFIX: ${problem}`]);
    });

    it('is avaturn-broker: when empty, like every variable set to nothing', () => {
      expect(loadConfig({ ...minimal, REDIS_KEY_PREFIX: '' }).redisKeyPrefix).toBe('avaturn-broker:');
    });
  });

  describe('CORS_ORIGINS', () => {
    it('keeps exact origins, normalised as browsers send them, ignoring blanks and repeats', () => {
      const config = loadConfig({
        ...minimal,
        CORS_ORIGINS: ' HTTPS://App.Example.com:443 ,, https://app.example.com,http://localhost:3000 ',
      });
      expect(config.corsOrigins).toEqual(['https://app.example.com', 'http://localhost:3000']);
    });

    it.each([
      '*',
      'https://app.example.com/',
      'https://app.example.com/path',
      'app.example.com',
      'ftp://x.example',
    ])('refuses %s, naming the entry by position', (entry) => {
      expect(problemsOf({ ...minimal, CORS_ORIGINS: `https://ok.example,${entry}` })).toEqual([
        expect.stringMatching(/^CORS_ORIGINS: entry 2 must be an exact origin/),
      ]);
    });
  });

  describe('TRUST_PROXY', () => {
    it.each([
      [undefined, false],
      ['false', false],
      ['0', false],
      ['1', 1],
      ['3', 3],
      ['loopback', ['loopback']],
      [
        'loopback, 10.0.0.0/8 ,fd00::/8, 192.168.1.7,linklocal,uniquelocal',
        ['loopback', '10.0.0.0/8', 'fd00::/8', '192.168.1.7', 'linklocal', 'uniquelocal'],
      ],
    ])('reads %s as %j', (value, expected) => {
      expect(loadConfig({ ...minimal, TRUST_PROXY: value }).trustProxy).toEqual(expected);
    });

    it.each(['true', 'TRUE'])('refuses %s and explains that X-Forwarded-For could be spoofed', (value) => {
      const problems = problemsOf({ ...minimal, TRUST_PROXY: value });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^TRUST_PROXY: true is refused/);
      expect(problems[0]).toContain('X-Forwarded-For');
    });

    it.each(['10.0.0.0/33', 'proxy.internal', '1.2.3', '::1/129', '10.0.0.1/8/8'])('refuses %s', (entry) => {
      expect(problemsOf({ ...minimal, TRUST_PROXY: `loopback,${entry}` })).toEqual([
        expect.stringMatching(/^TRUST_PROXY: entry 2 must be/),
      ]);
    });
  });

  describe('authentication', () => {
    it('requires one of AUTH_JWT_SECRET or AUTH_JWKS_URL', () => {
      expect(problemsOf({ ...minimal, AUTH_JWT_SECRET: undefined })).toEqual([
        'AUTH_JWT_SECRET or AUTH_JWKS_URL: one of them is required',
      ]);
    });

    it('refuses both at once', () => {
      const env = {
        ...minimal,
        AUTH_JWKS_URL: 'https://id.example/jwks',
        AUTH_ISSUER: 'i',
        AUTH_AUDIENCE: 'a',
      };
      expect(problemsOf(env)).toEqual(['AUTH_JWT_SECRET, AUTH_JWKS_URL: set only one of them']);
    });

    it('counts the HS256 secret length in UTF-8 bytes, not characters', () => {
      expect(loadConfig({ ...minimal, AUTH_JWT_SECRET: 'é'.repeat(16) }).auth.secret).toBe('é'.repeat(16));
      expect(problemsOf({ ...minimal, AUTH_JWT_SECRET: 'a'.repeat(31) })).toEqual([
        'AUTH_JWT_SECRET: must be at least 32 bytes',
      ]);
    });

    it('with AUTH_JWKS_URL requires AUTH_ISSUER and AUTH_AUDIENCE', () => {
      const env = {
        ...minimal,
        AUTH_JWT_SECRET: undefined,
        AUTH_JWKS_URL: 'https://id.example/.well-known/jwks.json',
      };
      expect(problemsOf(env)).toEqual([
        'AUTH_ISSUER: is required with AUTH_JWKS_URL',
        'AUTH_AUDIENCE: is required with AUTH_JWKS_URL',
      ]);
      const config = loadConfig({ ...env, AUTH_ISSUER: 'https://id.example/', AUTH_AUDIENCE: 'app' });
      expect(config.auth).toEqual({
        jwksUrl: 'https://id.example/.well-known/jwks.json',
        issuer: 'https://id.example/',
        audience: 'app',
        userClaim: 'sub',
        maxTokenLifetimeSeconds: 86_400,
      });
    });

    it('refuses an AUTH_JWKS_URL that is not an http(s) URL', () => {
      const env = { ...minimal, AUTH_JWT_SECRET: undefined, AUTH_JWKS_URL: 'file:///jwks', AUTH_ISSUER: 'i' };
      expect(problemsOf({ ...env, AUTH_AUDIENCE: 'a' })).toEqual(['AUTH_JWKS_URL: must be an http(s) URL']);
    });
  });

  describe('engine keys for the default profile', () => {
    it('requires OPENAI_API_KEY for the default openai-realtime engine', () => {
      expect(problemsOf({ ...minimal, OPENAI_API_KEY: undefined })).toEqual([
        'OPENAI_API_KEY: is required when SESSION_ENGINE is openai-realtime (the default)',
      ]);
    });

    it('with SESSION_ENGINE=cartesia requires CARTESIA_API_KEY and CARTESIA_AGENT_ID, not OPENAI_API_KEY', () => {
      const env = { ...minimal, OPENAI_API_KEY: undefined, SESSION_ENGINE: 'cartesia' };
      expect(problemsOf(env)).toEqual([
        'CARTESIA_API_KEY: is required when SESSION_ENGINE is cartesia',
        'CARTESIA_AGENT_ID: is required when SESSION_ENGINE is cartesia',
      ]);
      const config = loadConfig({ ...env, CARTESIA_API_KEY: CARTESIA_KEY, CARTESIA_AGENT_ID: 'agent_1' });
      expect(config.profiles['default']?.engine).toEqual({
        type: 'cartesia',
        agentId: 'agent_1',
        tokenTtlSeconds: 300,
      });
    });

    it('refuses an API key with whitespace inside, such as a pasted newline', () => {
      expect(problemsOf({ ...minimal, OPENAI_API_KEY: `${OPENAI_KEY}\n` })).toEqual([
        'OPENAI_API_KEY: must be printable ASCII without spaces',
      ]);
    });
  });

  describe('when many things are wrong at once', () => {
    it('lists every one, one line each, naming the variable', () => {
      const error = configErrorOf({
        AUTH_JWT_SECRET: JWT_SECRET,
        OPENAI_API_KEY: OPENAI_KEY,
        PORT: '80abc',
        LOG_LEVEL: 'chatty',
        TRUST_PROXY: 'true',
        REDIS_URL: 'memcached://cache',
      });

      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe('ConfigError');
      expect(error.problems).toHaveLength(5);
      const lines = error.message.split('\n').slice(1);
      expect(lines).toHaveLength(5);
      for (const name of ['AVATURN_API_KEY', 'PORT', 'LOG_LEVEL', 'TRUST_PROXY', 'REDIS_URL']) {
        expect(lines.filter((line) => line.includes(`${name}:`))).toHaveLength(1);
      }
    });
  });

  describe('the error message', () => {
    it('never contains a secret, even when the secret itself is the problem', () => {
      const message = messageOf({
        AVATURN_API_KEY: `${AVATURN_KEY} with spaces`,
        AUTH_JWT_SECRET: 'short-SECRET',
        OPENAI_API_KEY: `${OPENAI_KEY}\t`,
        CARTESIA_API_KEY: `${CARTESIA_KEY} `,
        METRICS_TOKEN: `${METRICS}\n`,
        REDIS_URL: 'http://:REDIS-SECRET@cache',
        PORT: 'PORT-VALUE-77',
      });

      for (const value of [
        AVATURN_KEY,
        'short-SECRET',
        OPENAI_KEY,
        CARTESIA_KEY,
        METRICS,
        'REDIS-SECRET',
        'PORT-VALUE',
      ]) {
        expect(message).not.toContain(value);
      }
      expect(message).toContain('AVATURN_API_KEY');
      expect(message).toContain('METRICS_TOKEN');
    });

    it('never contains the values of non-secret variables either', () => {
      const values = {
        HOST: undefined,
        CORS_ORIGINS: 'https://CORS-VALUE.example/path',
        TRUST_PROXY: 'TRUST-VALUE',
        AVATURN_BASE_URL: 'gopher://BASE-VALUE',
        CARTESIA_VERSION: 'VERSION-VALUE',
        SESSION_ENGINE: 'ENGINE-VALUE',
        OPENAI_CLIENT_SECRET_TTL_SECONDS: '99999',
      };
      const message = messageOf({ ...minimal, ...values });

      for (const value of [
        'CORS-VALUE',
        'TRUST-VALUE',
        'BASE-VALUE',
        'VERSION-VALUE',
        'ENGINE-VALUE',
        '99999',
      ]) {
        expect(message).not.toContain(value);
      }
    });
  });

  describe('for any string values at all', () => {
    const names = [
      'AVATURN_API_KEY',
      'AUTH_JWT_SECRET',
      'AUTH_JWKS_URL',
      'PORT',
      'TRUST_PROXY',
      'CORS_ORIGINS',
      'SESSION_ENGINE',
      'REDIS_URL',
      'PROFILES_FILE',
      'MAX_SESSIONS_TOTAL',
      'AVATURN_BASE_URL',
      'LOG_LEVEL',
    ];

    // The marker keeps a short random secret from matching the fixed wording of a message by chance.
    const secretLike = fc.string().map((s) => `%%${s}`);

    it('either returns a config or throws a ConfigError that holds no secret', () => {
      fc.assert(
        fc.property(
          fc.dictionary(fc.constantFrom(...names), fc.string()),
          secretLike,
          secretLike,
          fc.oneof(fc.string(), fc.json()),
          (env, apiKey, secret, file) => {
            const full = { ...env, AVATURN_API_KEY: apiKey, AUTH_JWT_SECRET: secret, OPENAI_API_KEY: 'k' };
            try {
              loadConfig(full, { readFile: () => file });
            } catch (err) {
              expect(err).toBeInstanceOf(ConfigError);
              const message = (err as ConfigError).message;
              expect(message).not.toContain(apiKey);
              expect(message).not.toContain(secret);
            }
          },
        ),
        { numRuns: 500 },
      );
    });
  });
});

describe('loadDotenv', () => {
  function inTempDir(run: (dir: string) => void): void {
    const dir = mkdtempSync(join(tmpdir(), 'broker-dotenv-'));
    try {
      run(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('fills variables from .env underneath the real ones, without touching the env it was given', () => {
    inTempDir((dir) => {
      writeFileSync(join(dir, '.env'), 'PORT=9000\nLOG_LEVEL=debug\n# a comment\nHOST="::"\n');
      const env = { PORT: '3000', LOG_LEVEL: undefined };

      expect(loadDotenv(env, join(dir, '.env'))).toEqual({ PORT: '3000', LOG_LEVEL: 'debug', HOST: '::' });
      expect(env).toEqual({ PORT: '3000', LOG_LEVEL: undefined });
    });
  });

  it('returns a copy of the env when there is no .env', () => {
    inTempDir((dir) => {
      const env = { PORT: '3000' };
      const result = loadDotenv(env, join(dir, '.env'));
      expect(result).toEqual(env);
      expect(result).not.toBe(env);
    });
  });
});
