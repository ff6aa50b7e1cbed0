import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../src/config/load-config';
import { CARTESIA_KEY, minimal, problemsOf, readFrom } from './config-fixtures';

const openAiCap = 'must be at most 3600 for openai-realtime (OpenAI ends Realtime sessions at 60 minutes)';
const cartesiaEnv = {
  ...minimal,
  SESSION_ENGINE: 'cartesia',
  CARTESIA_API_KEY: CARTESIA_KEY,
  CARTESIA_AGENT_ID: 'a',
};

function fromFile(profiles: unknown, env: Record<string, string> = {}) {
  const files = { '/p.json': JSON.stringify(profiles) };
  const fullEnv = { ...minimal, CARTESIA_API_KEY: CARTESIA_KEY, PROFILES_FILE: '/p.json', ...env };
  return {
    load: () => loadConfig(fullEnv, { readFile: (path) => readFrom(files, path) }),
    problems: () => problemsOf(fullEnv, files),
  };
}

describe('loadConfig: max_duration per engine', () => {
  describe('SESSION_MAX_DURATION_SECONDS for the env-only default profile', () => {
    it('accepts 3600 with the openai-realtime engine and refuses 3601, naming the variable', () => {
      expect(
        loadConfig({ ...minimal, SESSION_MAX_DURATION_SECONDS: '3600' }).profiles['default'],
      ).toMatchObject({ maxDurationSeconds: 3600 });
      expect(problemsOf({ ...minimal, SESSION_MAX_DURATION_SECONDS: '3601' })).toEqual([
        `SESSION_MAX_DURATION_SECONDS: ${openAiCap}, and SESSION_ENGINE is openai-realtime (the default)`,
      ]);
    });

    it('accepts up to 86400 with the cartesia engine, and nothing outside 60 to 86400', () => {
      for (const seconds of [60, 7200, 86400]) {
        const config = loadConfig({ ...cartesiaEnv, SESSION_MAX_DURATION_SECONDS: String(seconds) });
        expect(config.profiles['default']?.maxDurationSeconds).toBe(seconds);
      }
      for (const seconds of [59, 86401]) {
        expect(problemsOf({ ...cartesiaEnv, SESSION_MAX_DURATION_SECONDS: String(seconds) })).toEqual([
          'SESSION_MAX_DURATION_SECONDS: must be an integer from 60 to 86400',
        ]);
      }
    });

    it('reports only the range for a value past 86400, whatever the engine', () => {
      expect(problemsOf({ ...minimal, SESSION_MAX_DURATION_SECONDS: '86401' })).toEqual([
        'SESSION_MAX_DURATION_SECONDS: must be an integer from 60 to 86400',
      ]);
    });
  });

  describe('in PROFILES_FILE', () => {
    it('accepts 3600 for an openai-realtime profile and 7200 for a cartesia one', () => {
      const config = fromFile({
        chat: { engine: { type: 'openai-realtime' }, max_duration_seconds: 3600 },
        help: { engine: { type: 'cartesia', agent_id: 'a' }, max_duration_seconds: 7200 },
      }).load();
      expect(config.profiles['chat']?.maxDurationSeconds).toBe(3600);
      expect(config.profiles['help']?.maxDurationSeconds).toBe(7200);
    });

    it('refuses 3601 for an openai-realtime profile, naming the field, along with other problems', () => {
      const problems = fromFile(
        {
          chat: { engine: { type: 'openai-realtime', voice: 3 }, max_duration_seconds: 3601 },
          help: { engine: { type: 'cartesia', agent_id: 'a' }, max_duration_seconds: 7200 },
        },
        { PORT: 'eighty' },
      ).problems();
      expect(problems.sort()).toEqual(
        [
          'PORT: must be an integer from 0 to 65535',
          'PROFILES_FILE chat.engine.voice: must be a string',
          `PROFILES_FILE chat.max_duration_seconds: ${openAiCap}`,
        ].sort(),
      );
    });

    it('names SESSION_MAX_DURATION_SECONDS when openai-realtime profiles inherit a value above 3600', () => {
      const file = fromFile(
        {
          chat: { engine: { type: 'openai-realtime' } },
          short: { engine: { type: 'openai-realtime' }, max_duration_seconds: 1800 },
          help: { engine: { type: 'cartesia', agent_id: 'a' } },
        },
        { SESSION_MAX_DURATION_SECONDS: '7200' },
      );
      expect(file.problems()).toEqual([
        `SESSION_MAX_DURATION_SECONDS: ${openAiCap}, and PROFILES_FILE uses openai-realtime in chat`,
      ]);
    });

    it('lets a cartesia-only file inherit a SESSION_MAX_DURATION_SECONDS above 3600', () => {
      const config = fromFile(
        { help: { engine: { type: 'cartesia', agent_id: 'a' } } },
        { SESSION_MAX_DURATION_SECONDS: '7200' },
      ).load();
      expect(config.profiles['help']?.maxDurationSeconds).toBe(7200);
    });
  });
});
