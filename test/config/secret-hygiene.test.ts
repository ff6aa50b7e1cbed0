import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../src/config/load-config';
import { startBrokerProcess } from '../helpers/broker-process';
import { JWT_SECRET, METRICS, messageOf, minimal, problemsOf } from './config-fixtures';

const ADMIN = 'admin-SECRET-token-0123456789-abcdef';
const AGENT_KEY = 'agent-SECRET-signing-key-0123456789-xyz';
const webhook = { EVENTS_WEBHOOK_SECRET: `whsec_${Buffer.from('s'.repeat(32)).toString('base64')}` };

describe('start-up configuration › secrets that must not be shared or mangled', () => {
  describe('when two of ADMIN_TOKEN, METRICS_TOKEN, AUTH_JWT_SECRET and EXTERNAL_ENGINE_SIGNING_KEY are equal', () => {
    it('names both variables of each equal pair, never the value', () => {
      const env = {
        ...minimal,
        ADMIN_TOKEN: ADMIN,
        METRICS_TOKEN: ADMIN,
        EXTERNAL_ENGINE_SIGNING_KEY: JWT_SECRET,
      };
      expect(problemsOf(env).sort()).toEqual(
        [
          'METRICS_TOKEN: must differ from ADMIN_TOKEN',
          'EXTERNAL_ENGINE_SIGNING_KEY: must differ from AUTH_JWT_SECRET',
        ].sort(),
      );
      expect(messageOf(env)).not.toContain(ADMIN);
      expect(messageOf(env)).not.toContain(JWT_SECRET);
    });

    it('refuses the admin token as the HS256 user-token secret, too', () => {
      expect(problemsOf({ ...minimal, ADMIN_TOKEN: JWT_SECRET })).toEqual([
        'AUTH_JWT_SECRET: must differ from ADMIN_TOKEN',
      ]);
    });

    it('accepts four different secrets', () => {
      const config = loadConfig({
        ...minimal,
        ADMIN_TOKEN: ADMIN,
        METRICS_TOKEN: METRICS,
        EXTERNAL_ENGINE_SIGNING_KEY: AGENT_KEY,
      });
      expect([
        config.adminToken,
        config.metricsToken,
        config.auth.secret,
        config.externalEngine?.signingKey,
      ]).toEqual([ADMIN, METRICS, JWT_SECRET, AGENT_KEY]);
    });
  });

  describe('when an HMAC key carries a line break', () => {
    it.each([
      ['AUTH_JWT_SECRET', `${JWT_SECRET}\n`],
      ['AUTH_JWT_SECRET', `${JWT_SECRET}\r\n`],
      ['EXTERNAL_ENGINE_SIGNING_KEY', `${AGENT_KEY}\n`],
      ['EXTERNAL_ENGINE_SIGNING_KEY', `${AGENT_KEY}\r`],
      ['EXTERNAL_ENGINE_SIGNING_KEY', `${AGENT_KEY.slice(0, 20)}\n${AGENT_KEY.slice(20)}`],
    ])('refuses %s with a CR or LF in it (%j), naming it without its value', (name, value) => {
      const env = { ...minimal, [name]: value };
      expect(problemsOf(env)).toEqual([
        `${name}: must not contain a line break (CR or LF), e.g. a pasted newline`,
      ]);
      expect(messageOf(env)).not.toContain(value.trim());
    });
  });

  describe('when EVENTS_WEBHOOK_URL carries user info', () => {
    it.each(['https://hookuser:hookpass@hooks.example.com/in', 'https://hookuser@hooks.example.com/in'])(
      'refuses %s at start rather than send without it',
      (url) => {
        const env = { ...minimal, ...webhook, EVENTS_WEBHOOK_URL: url };
        expect(problemsOf(env)).toEqual([
          'EVENTS_WEBHOOK_URL: must not carry credentials (user:password@); the webhook secret signs every delivery',
        ]);
        expect(messageOf(env)).not.toMatch(/hookuser|hookpass/);
      },
    );

    it('accepts the same URL without them', () => {
      const config = loadConfig({
        ...minimal,
        ...webhook,
        EVENTS_WEBHOOK_URL: 'https://hooks.example.com/in',
      });
      expect(config.eventsWebhook?.url).toBe('https://hooks.example.com/in');
    });
  });

  describe('the real server started with all of these at once', () => {
    it('exits non-zero with one message naming every variable and printing no value', async () => {
      const started = startBrokerProcess({
        ...minimal,
        ...webhook,
        AUTH_JWT_SECRET: `${JWT_SECRET}\n`,
        ADMIN_TOKEN: ADMIN,
        METRICS_TOKEN: ADMIN,
        EVENTS_WEBHOOK_URL: 'https://hook-user:hook-password@hooks.example.com/in',
      });
      const failure = await started.then(
        () => undefined,
        (err: Error) => err.message,
      );
      expect(failure).toMatch(/broker exited early with [1-9]/);
      expect(failure).toContain('AUTH_JWT_SECRET: must not contain a line break');
      expect(failure).toContain('METRICS_TOKEN: must differ from ADMIN_TOKEN');
      expect(failure).toContain('EVENTS_WEBHOOK_URL: must not carry credentials');
      for (const secret of [JWT_SECRET, ADMIN, 'hook-password', 'hook-user'])
        expect(failure).not.toContain(secret);
    }, 30_000);
  });
});
