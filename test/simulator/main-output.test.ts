import { spawn } from 'node:child_process';
import { parse } from 'dotenv';
import { loadConfig } from '../../src/config/load-config';
import { repoRoot, tsxBin } from '../helpers/broker-process';

describe('npm run simulator', () => {
  it('prints one variable per line, ready to paste into .env, and the broker loads them', async () => {
    const child = spawn(tsxBin, ['src/simulator/main.ts'], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH, SIM_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    await new Promise<void>((done, fail) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('CARTESIA_API_KEY=')) done();
      });
      child.once('exit', (code) => fail(new Error(`exited with ${code}`)));
    });
    child.kill('SIGTERM');
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
