import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { jwtVerify } from 'jose';
import { testJwtSecret } from '../fixtures/tokens';

const run = promisify(execFile);
const root = resolve(__dirname, '../..');
const tsx = resolve(root, 'node_modules/.bin/tsx');

describe('the benchmark and the test fixtures, outside Jest', () => {
  it('load with no Jest around and sign tokens that the test secret verifies', async () => {
    const fixtures = readdirSync(resolve(root, 'test/fixtures')).map((file) => `./test/fixtures/${file}`);
    expect(fixtures.length).toBeGreaterThan(0);
    const script = `
      Promise.all(${JSON.stringify(fixtures)}.map((file) => import(file)))
        .then(() => import('./bench/world'))
        .then(async (world) => console.log(JSON.stringify(await world.signUserTokens(2))));`;
    const { stdout } = await run(tsx, ['-e', script], { cwd: root, env: { PATH: process.env.PATH } });
    const tokens = JSON.parse(stdout) as string[];
    const secret = new TextEncoder().encode(testJwtSecret);
    const subjects = await Promise.all(
      tokens.map(async (bearer) => (await jwtVerify(bearer.replace(/^Bearer /, ''), secret)).payload.sub),
    );
    expect(subjects).toEqual(['bench-user-0', 'bench-user-1']);
  }, 60_000);
});
