import { parse } from 'dotenv';
import { loadConfig } from '../../src/config/load-config';
import { outputUntil } from '../helpers/broker-process';

describe('npm run simulator', () => {
  it('prints one variable per line, ready to paste into .env, and the broker loads them', async () => {
    const stdout = await outputUntil('src/simulator/main.ts', 'CARTESIA_API_KEY=', {
      env: { SIM_PORT: '0' },
    });
    const lines = stdout.trim().split('\n');
    const settings = lines.filter((line) => !line.startsWith('#'));
    expect(settings.map((line) => line.split('=')[0])).toEqual([
      'AVATURN_API_KEY',
      'AVATURN_BASE_URL',
      'OPENAI_API_KEY',
      'OPENAI_BASE_URL',
      'CARTESIA_API_KEY',
      'CARTESIA_BASE_URL',
    ]);
    expect(settings.every((line) => /^[A-Z_]+=\S+$/.test(line))).toBe(true);
    const env = parse(stdout);
    expect(Object.keys(env)).toHaveLength(6);
    const config = loadConfig({ ...env, AUTH_JWT_SECRET: 'a-secret-that-is-long-enough-0123456789' });
    expect(config.avaturn.baseUrl).toBe(env.AVATURN_BASE_URL);
  }, 30_000);
});
