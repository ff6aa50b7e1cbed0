import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../src/config/load-config';
import { JWT_SECRET, messageOf, minimal, problemsOf, readFrom } from './config-fixtures';

const SIGNING_KEY = 'ext-SIGNING-KEY-0123456789-abcdefghij';
const AGENT = { type: 'external', url: 'wss://agent.example.com/avaturn', sample_rate: 24000 };

function withProfiles(profiles: unknown, env: Record<string, string | undefined> = {}) {
  const files = { '/profiles.json': JSON.stringify(profiles) };
  return {
    env: { ...minimal, PROFILES_FILE: '/profiles.json', EXTERNAL_ENGINE_SIGNING_KEY: SIGNING_KEY, ...env },
    files,
  };
}

const load = ({ env, files }: ReturnType<typeof withProfiles>) =>
  loadConfig(env, { readFile: (path) => readFrom(files, path) });
const problems = ({ env, files }: ReturnType<typeof withProfiles>) => problemsOf(env, files);
const agentWith = (engine: Record<string, unknown>) =>
  withProfiles({ own: { engine: { ...AGENT, ...engine } } });

describe('loadConfig with an external engine profile', () => {
  it('builds the profile with its URL, sample rate, static headers and avatar, and keeps the signing key', () => {
    const config = load(
      withProfiles({
        own: {
          engine: { ...AGENT, headers: { 'X-Tenant': 'acme', 'X-Trace': 'on  air' } },
          avatar: { render_model: 'golf' },
        },
      }),
    );

    expect(config.profiles['own']).toEqual({
      name: 'own',
      engine: {
        type: 'external',
        url: 'wss://agent.example.com/avaturn',
        sampleRate: 24000,
        headers: { 'X-Tenant': 'acme', 'X-Trace': 'on  air' },
      },
      avatar: { renderModel: 'golf' },
      maxDurationSeconds: 900,
      userAbsentTimeoutSeconds: 60,
    });
    expect(config.externalEngine).toEqual({ signingKey: SIGNING_KEY });
  });

  it('needs no OpenAI or Cartesia key, and sends no headers of its own when the profile has none', () => {
    const config = load(withProfiles({ own: { engine: AGENT } }, { OPENAI_API_KEY: undefined }));
    expect(config.profiles['own']?.engine).toMatchObject({ headers: {} });
  });

  it.each(['ws://localhost:8765/agent', 'ws://127.0.0.1:9000', 'ws://[::1]:9000/x', 'wss://a.example/x?t=1'])(
    'accepts the URL %s',
    (url) => {
      expect(load(agentWith({ url })).profiles['own']?.engine).toMatchObject({ url });
    },
  );

  it.each([
    'ws://agent.example.com/avaturn',
    'ws://10.0.0.5/agent',
    'https://agent.example.com',
    'wss://user:pw@agent.example.com',
    'wss://agent.example.com/#frag',
    'not a url',
  ])('refuses the URL %s, naming the field and not the value', (url) => {
    const found = problems(agentWith({ url }));
    expect(found).toEqual([
      'PROFILES_FILE own.engine.url: must be a wss:// URL (ws:// only for a loopback host), without credentials or fragment',
    ]);
  });

  it.each([undefined, 8000, '16000', 44100])('refuses a sample_rate of %j', (sampleRate) => {
    const found = problems(agentWith({ sample_rate: sampleRate }));
    expect(found).toEqual([
      sampleRate === undefined
        ? 'PROFILES_FILE own.engine.sample_rate: is required'
        : 'PROFILES_FILE own.engine.sample_rate: must be 16000 or 24000',
    ]);
  });

  it.each(['Authorization', 'authorization', 'AUTHORIZATION'])(
    'refuses a static %s header, which would compete with the minted credential',
    (name) => {
      expect(problems(agentWith({ headers: { [name]: 'Bearer static' } }))).toEqual([
        `PROFILES_FILE own.engine.headers.${name}: must not be set: the broker sends the session credential in Authorization`,
      ]);
    },
  );

  it('refuses invalid header names and values without printing either', () => {
    const setup = agentWith({
      headers: {
        'X-Ok': 'fine',
        'Bad Name SECRET-NAME': 'v',
        'X-Newline': 'SECRET-VALUE\r\nX-Injected: 1',
        'X-Padded': ' SECRET-PADDED ',
        'X-Number': 7,
      },
    });
    const value = 'must be printable ASCII without line breaks or leading and trailing spaces';
    expect(problems(setup)).toEqual([
      'PROFILES_FILE own.engine.headers.(unprintable key): must be a valid HTTP header name',
      `PROFILES_FILE own.engine.headers.X-Newline: ${value}`,
      `PROFILES_FILE own.engine.headers.X-Padded: ${value}`,
      'PROFILES_FILE own.engine.headers.X-Number: must be a string',
    ]);
    expect(messageOf(setup.env, setup.files)).not.toContain('SECRET');
  });

  it('requires EXTERNAL_ENGINE_SIGNING_KEY, naming the profiles that need it', () => {
    const found = problems(
      withProfiles(
        { own: { engine: AGENT }, other: { engine: { ...AGENT, sample_rate: 16000 } } },
        { EXTERNAL_ENGINE_SIGNING_KEY: undefined },
      ),
    );
    expect(found).toEqual([
      'EXTERNAL_ENGINE_SIGNING_KEY: is required when PROFILES_FILE uses external in own, other',
    ]);
  });

  it('refuses a signing key shorter than 32 bytes, or the same as AUTH_JWT_SECRET, without printing it', () => {
    const short = withProfiles({ own: { engine: AGENT } }, { EXTERNAL_ENGINE_SIGNING_KEY: 'SHORT-KEY' });
    expect(problems(short)).toEqual(['EXTERNAL_ENGINE_SIGNING_KEY: must be at least 32 bytes']);
    expect(messageOf(short.env, short.files)).not.toContain('SHORT-KEY');

    const same = withProfiles({ own: { engine: AGENT } }, { EXTERNAL_ENGINE_SIGNING_KEY: JWT_SECRET });
    expect(problems(same)).toEqual(['EXTERNAL_ENGINE_SIGNING_KEY: must differ from AUTH_JWT_SECRET']);
    expect(messageOf(same.env, same.files)).not.toContain(JWT_SECRET);
  });

  it('reports every bad field of every profile at once, together with bad variables', () => {
    const found = problems(
      withProfiles(
        {
          plain: { engine: { ...AGENT, url: 'ws://agent.example.com' } },
          authz: { engine: { ...AGENT, headers: { Authorization: 'x' } } },
          rate: { engine: { ...AGENT, sample_rate: 8000 }, avatar: { render_model: 'alpha' } },
        },
        { EXTERNAL_ENGINE_SIGNING_KEY: undefined, PORT: 'eighty' },
      ),
    );
    expect(found.sort()).toEqual(
      [
        'PORT: must be an integer from 0 to 65535',
        'EXTERNAL_ENGINE_SIGNING_KEY: is required when PROFILES_FILE uses external in plain, authz, rate',
        'PROFILES_FILE plain.engine.url: must be a wss:// URL (ws:// only for a loopback host), without credentials or fragment',
        'PROFILES_FILE authz.engine.headers.Authorization: must not be set: the broker sends the session credential in Authorization',
        'PROFILES_FILE rate.engine.sample_rate: must be 16000 or 24000',
        'PROFILES_FILE rate.avatar.render_model: must be one of delta, golf',
      ].sort(),
    );
  });

  it('cannot be the engine of the env-only default profile', () => {
    expect(problemsOf({ ...minimal, SESSION_ENGINE: 'external' })).toEqual([
      'SESSION_ENGINE: must be one of openai-realtime, cartesia',
    ]);
  });
});
