import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { isNodeRecentEnough, MINIMUM_NODE_VERSION, oldNodeMessage } from '../../src/node-version';

const root = resolve(__dirname, '../..');
const tsx = resolve(root, 'node_modules/.bin/tsx');
const oldVersion = '20.20.2';

function runEntry(
  entry: string,
  preload: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(tsx, [entry], {
      cwd: root,
      // Ports 0 and a silent log, in case an entry did start: it must not hold on to anything.
      env: { PATH: process.env.PATH, NODE_OPTIONS: `--require ${preload}`, SIM_PORT: '0', PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.once('error', fail);
    child.once('exit', (code) => done({ code, stdout, stderr }));
  });
}

describe('a Node older than the minimum', () => {
  let dir: string;
  let preload: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'old-node-'));
    preload = join(dir, 'pretend-old-node.js');
    // What an old Node reports; everything else stays the running Node, so only the check can tell.
    writeFileSync(preload, `Object.defineProperty(process.versions, 'node', { value: '${oldVersion}' });\n`);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    'src/index.ts',
    'src/server.ts',
    'src/simulator/main.ts',
    'scripts/demo.ts',
    'scripts/demo-app.ts',
    'scripts/build-demo-page.ts',
    'bench/run.ts',
  ])('%s exits 1 with one line that says what to do, and no stack trace', async (entry) => {
    const { code, stdout, stderr } = await runEntry(entry, preload);
    expect({ code, stdout, stderr }).toEqual({ code: 1, stdout: '', stderr: oldNodeMessage(oldVersion) });
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });

  it('is the one package.json declares', () => {
    const { engines } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      engines: { node: string };
    };
    expect(engines.node).toBe(`>=${MINIMUM_NODE_VERSION}`);
  });

  it.each([
    ['22.19.0', true],
    ['22.23.3', true],
    ['23.0.0', true],
    ['22.18.9', false],
    ['20.20.2', false],
    ['18.19.1', false],
  ])('compares %s by its parts: recent enough is %s', (version, expected) => {
    expect(isNodeRecentEnough(version)).toBe(expected);
  });
});
