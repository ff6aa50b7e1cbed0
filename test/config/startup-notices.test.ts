import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig } from '../../src/config/load-config';
import { readProfilesFile } from '../../src/config/profiles-file';
import {
  defaultProfileNotice,
  dotenvNotice,
  startupNotices,
  unknownVariableNotices,
} from '../../src/config/startup-notices';
import { outputUntil } from '../helpers/broker-process';
import { minimal, readFrom } from './config-fixtures';

describe('start-up notices: warnings, never failures', () => {
  it.each([
    ['CORS_ORIGIN', 'CORS_ORIGIN is not a broker variable and is ignored: did you mean CORS_ORIGINS?'],
    ['AUTH_ISUER', 'AUTH_ISUER is not a broker variable and is ignored: did you mean AUTH_ISSUER?'],
    ['cors_origins', 'cors_origins is not a broker variable and is ignored: did you mean CORS_ORIGINS?'],
    ['REDIS_URI', 'REDIS_URI is not a broker variable and is ignored: did you mean REDIS_URL?'],
    ['AVATURN_SECRET_THING', 'AVATURN_SECRET_THING is not a broker variable and is ignored'],
  ])('%s › warns, naming the variable it probably meant', (name, msg) => {
    expect(unknownVariableNotices({ ...minimal, [name]: 'https://app.example' })).toEqual([
      { level: 'warn', msg },
    ]);
  });

  it('says nothing of the machine’s own variables, nor of other tools’ (HOME, PATH, NODE_ENV, OPENAI_ORG_ID, npm_…)', () => {
    expect(
      unknownVariableNotices({
        ...minimal,
        HOME: '/root',
        PATH: '/usr/bin',
        NODE_ENV: 'production',
        OPENAI_ORG_ID: 'org',
        npm_lifecycle_event: 'start',
        CORS_ORIGINS: 'https://app.example',
      }),
    ).toEqual([]);
  });

  it('never prints a value', () => {
    const notices = unknownVariableNotices({ AUTH_JWT_SECRETS: 'SECRET-VALUE-123' });
    expect(notices).toHaveLength(1);
    expect(JSON.stringify(notices)).not.toContain('SECRET-VALUE-123');
  });

  it('says where .env was looked for, found or not', () => {
    expect(dotenvNotice('.env', false)).toEqual({
      level: 'info',
      msg: `no .env at ${resolve('.env')}: the configuration is the environment alone`,
    });
    expect(dotenvNotice('/srv/app/.env', true).msg).toMatch(/^read \/srv\/app\/\.env /);
  });

  it('warns when no profile is called default, and not when one is', () => {
    const files = { '/p.json': JSON.stringify({ support: { engine: { type: 'openai-realtime' } } }) };
    const withoutDefault = loadConfig(
      { ...minimal, PROFILES_FILE: '/p.json' },
      { readFile: (p) => readFrom(files, p) },
    );
    expect(defaultProfileNotice(withoutDefault)).toEqual([
      { level: 'warn', msg: expect.stringMatching(/^no profile is called "default": .*400 unknown-profile/) },
    ]);
    expect(defaultProfileNotice(loadConfig(minimal))).toEqual([]);
  });

  it('names the resolved path of a missing profiles file', () => {
    const problems: string[] = [];
    readProfilesFile(
      'config/profiles.json',
      () => {
        throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      },
      problems,
    );
    expect(problems).toEqual([`PROFILES_FILE: cannot be read (ENOENT): ${resolve('config/profiles.json')}`]);
  });

  it('come in one list, .env first', () => {
    const notices = startupNotices({ ...minimal, CORS_ORIGIN: 'x' }, loadConfig(minimal), '/nowhere/.env');
    expect(notices.map((n) => n.msg)).toEqual([
      'no .env at /nowhere/.env: the configuration is the environment alone',
      'CORS_ORIGIN is not a broker variable and is ignored: did you mean CORS_ORIGINS?',
    ]);
  });
});

describe('the broker process at start', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'broker-notices-'));
    writeFileSync(
      join(dir, 'profiles.json'),
      JSON.stringify({ support: { engine: { type: 'openai-realtime' } } }),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('logs the notices: no .env where it looked, the misspelt variable, no default profile, and CORS off', async () => {
    const stdout = await outputUntil('src/server.ts', 'avaturn-broker listening', {
      cwd: dir,
      env: {
        ...minimal,
        HOST: '127.0.0.1',
        PORT: '0',
        PROFILES_FILE: 'profiles.json',
        CORS_ORIGIN: 'http://localhost:5174',
      },
    });
    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { level: string; msg: string });
    const said = lines.map((line) => `${line.level} ${line.msg}`);
    expect(said).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^info CORS off: CORS_ORIGINS is not set/),
        `info no .env at ${join(dir, '.env')}: the configuration is the environment alone`,
        'warn CORS_ORIGIN is not a broker variable and is ignored: did you mean CORS_ORIGINS?',
        expect.stringMatching(/^warn no profile is called "default"/),
      ]),
    );
    expect(stdout).not.toContain('http://localhost:5174');
  }, 30_000);
});
