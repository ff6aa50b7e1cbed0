import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../src/config/load-config';
import { CARTESIA_KEY, messageOf, minimal, problemsOf, readFrom } from './config-fixtures';

function withProfiles(profiles: unknown, env: Record<string, string> = {}) {
  const files = { '/etc/broker/profiles.json': JSON.stringify(profiles) };
  return { env: { ...minimal, PROFILES_FILE: '/etc/broker/profiles.json', ...env }, files };
}

describe('loadConfig', () => {
  describe('with PROFILES_FILE', () => {
    const profiles = {
      default: {
        engine: {
          type: 'openai-realtime',
          model: 'gpt-realtime-2.1',
          voice: 'marin',
          instructions: 'You are a friendly guide.',
          session: { tools: [{ type: 'function', name: 'lookup' }], audio: { input: { transcription: {} } } },
          client_secret_ttl_seconds: 60,
        },
        avatar: { avatar_id: 'jane_20240829', background: 'transparent' },
        max_duration_seconds: 300,
        user_absent_timeout_seconds: 20,
      },
      support: { engine: { type: 'cartesia', agent_id: 'agent_123', token_ttl_seconds: 120 } },
    };

    it('builds every profile, reading the file by the path it was given', () => {
      const { env, files } = withProfiles(profiles, { CARTESIA_API_KEY: CARTESIA_KEY });
      const paths: string[] = [];
      const config = loadConfig(env, {
        readFile: (path) => {
          paths.push(path);
          return readFrom(files, path);
        },
      });

      expect(paths).toEqual(['/etc/broker/profiles.json']);
      expect(config.profiles).toEqual({
        default: {
          name: 'default',
          engine: {
            type: 'openai-realtime',
            model: 'gpt-realtime-2.1',
            voice: 'marin',
            instructions: 'You are a friendly guide.',
            session: profiles.default.engine.session,
            clientSecretTtlSeconds: 60,
          },
          avatar: { avatarId: 'jane_20240829', background: 'transparent' },
          maxDurationSeconds: 300,
          userAbsentTimeoutSeconds: 20,
        },
        support: {
          name: 'support',
          engine: { type: 'cartesia', agentId: 'agent_123', tokenTtlSeconds: 120 },
          avatar: {},
          maxDurationSeconds: 900,
          userAbsentTimeoutSeconds: 60,
        },
      });
    });

    it('fills fields a profile leaves out from the environment', () => {
      const { env, files } = withProfiles(
        { chat: { engine: { type: 'openai-realtime' } }, help: { engine: { type: 'cartesia' } } },
        {
          CARTESIA_API_KEY: CARTESIA_KEY,
          CARTESIA_AGENT_ID: 'agent_env',
          OPENAI_REALTIME_VOICE: 'cedar',
          OPENAI_CLIENT_SECRET_TTL_SECONDS: '900',
          CARTESIA_TOKEN_TTL_SECONDS: '60',
          AVATURN_AVATAR_ID: 'bob',
          SESSION_MAX_DURATION_SECONDS: '1200',
        },
      );
      const config = loadConfig(env, { readFile: (path) => readFrom(files, path) });

      expect(config.profiles['chat']).toEqual({
        name: 'chat',
        engine: {
          type: 'openai-realtime',
          model: 'gpt-realtime-2.1',
          voice: 'cedar',
          session: {},
          clientSecretTtlSeconds: 900,
        },
        avatar: { avatarId: 'bob' },
        maxDurationSeconds: 1200,
        userAbsentTimeoutSeconds: 60,
      });
      expect(config.profiles['help']?.engine).toEqual({
        type: 'cartesia',
        agentId: 'agent_env',
        tokenTtlSeconds: 60,
      });
    });

    it('requires the key of each engine the file uses, and only those', () => {
      const { env, files } = withProfiles(profiles, { OPENAI_API_KEY: '' });
      expect(problemsOf(env, files)).toEqual([
        'OPENAI_API_KEY: is required when PROFILES_FILE uses openai-realtime in default',
        'CARTESIA_API_KEY: is required when PROFILES_FILE uses cartesia in support',
      ]);
      const cartesiaOnly = withProfiles(
        { support: profiles.support },
        { OPENAI_API_KEY: '', CARTESIA_API_KEY: 'k' },
      );
      expect(() =>
        loadConfig(cartesiaOnly.env, { readFile: () => cartesiaOnly.files['/etc/broker/profiles.json'] }),
      ).not.toThrow();
    });

    it('reports a cartesia profile without an agent id at its path', () => {
      const { env, files } = withProfiles(
        { support: { engine: { type: 'cartesia' } } },
        { CARTESIA_API_KEY: 'k' },
      );
      expect(problemsOf(env, files)).toEqual([
        'PROFILES_FILE support.engine.agent_id: is required unless CARTESIA_AGENT_ID is set',
      ]);
    });

    it('reports every invalid field at its path, together with bad variables', () => {
      const { env, files } = withProfiles(
        {
          'no spaces!': { engine: { type: 'openai-realtime' } },
          a: { engine: { type: 'gemini' } },
          b: {},
          c: { engine: { type: 'openai-realtime', session: { type: 'transcription' }, voice: 7, extra: 1 } },
          d: {
            engine: { type: 'cartesia', agent_id: 'x', token_ttl_seconds: 0 },
            avatar: { background: 'red' },
          },
          e: {
            engine: { type: 'openai-realtime' },
            max_duration_seconds: '900',
            user_absent_timeout_seconds: 1.5,
          },
          f: { engine: { type: 'openai-realtime' }, colour: 'blue' },
        },
        { CARTESIA_API_KEY: 'k', PORT: 'eighty' },
      );
      expect(problemsOf(env, files).sort()).toEqual(
        [
          'PORT: must be an integer from 0 to 65535',
          'PROFILES_FILE (profile 1): the name must match ^[A-Za-z0-9_-]{1,64}$',
          'PROFILES_FILE a.engine.type: must be openai-realtime or cartesia or external',
          'PROFILES_FILE b.engine: is required',
          'PROFILES_FILE c.engine: has unknown key extra',
          'PROFILES_FILE c.engine.voice: must be a string',
          'PROFILES_FILE c.engine.session: must not set type',
          'PROFILES_FILE d.engine.token_ttl_seconds: must be an integer from 1 to 3600',
          'PROFILES_FILE d.avatar.background: must be one of default, transparent',
          'PROFILES_FILE e.max_duration_seconds: must be an integer from 60 to 86400',
          'PROFILES_FILE e.user_absent_timeout_seconds: must be an integer of at least 10',
          'PROFILES_FILE f: has unknown key colour',
        ].sort(),
      );
    });

    it.each([
      ['the file cannot be read', {}, 'PROFILES_FILE: cannot be read (ENOENT): /p.json'],
      [
        'the file is not JSON',
        { '/p.json': '{ "default": ' },
        'PROFILES_FILE: is not valid JSON at line 1, column 14 (the file ends too early)',
      ],
      [
        'the JSON has a syntax error',
        {
          '/p.json':
            '{\n  "default": {\n    "engine": { "type": "cartesia" }\n    "max_duration_seconds": 600\n  }\n}',
        },
        'PROFILES_FILE: is not valid JSON at line 4, column 5',
      ],
      [
        'the JSON is an array',
        { '/p.json': '[]' },
        'PROFILES_FILE: must be a JSON object mapping profile names to profiles',
      ],
      [
        'the JSON is null',
        { '/p.json': 'null' },
        'PROFILES_FILE: must be a JSON object mapping profile names to profiles',
      ],
      ['there is no profile', { '/p.json': '{}' }, 'PROFILES_FILE: must define at least one profile'],
    ])('when %s, reports where, never the content', (_story, files: Record<string, string>, problem) => {
      const problems = problemsOf({ ...minimal, PROFILES_FILE: '/p.json' }, files);
      expect(problems).toEqual([problem]);
      expect(problems.join('\n')).not.toMatch(/default|cartesia|max_duration/);
    });

    it('never echoes file contents such as instructions into the message', () => {
      const { env, files } = withProfiles({
        default: {
          engine: { type: 'openai-realtime', instructions: 42, voice: 'PROMPT-SECRET' },
          oops: 'PROMPT-SECRET',
        },
      });
      const message = messageOf(env, files);
      expect(message).toContain('default.engine.instructions');
      expect(message).not.toContain('PROMPT-SECRET');
    });
  });
});
