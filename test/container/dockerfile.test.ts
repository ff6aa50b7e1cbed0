import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MINIMUM_NODE_VERSION, isNodeRecentEnough } from '../../src/node-version';
import { repoRoot } from './engine';

const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
/** Instructions with their continuation lines joined, comments dropped. */
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'))
  .map((line) => {
    const [keyword = '', ...rest] = line.split(/\s+/);
    return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
  });
const stages = instructions.reduce<(typeof instructions)[]>((all, instruction) => {
  if (instruction.keyword === 'FROM') all.push([]);
  all.at(-1)?.push(instruction);
  return all;
}, []);
const runtime = stages.at(-1) ?? [];
const args = (keyword: string, list = instructions) =>
  list.filter((i) => i.keyword === keyword).map((i) => i.args);
const packageJson = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  engines: { node: string };
  devDependencies: Record<string, string>;
};

describe('Dockerfile', () => {
  it('builds every stage on one pinned node:<version>-bookworm-slim, the Node of the `node` devDependency', () => {
    const bases = args('FROM').map((from) => from.split(/\s+/)[0]);
    const version = packageJson.devDependencies.node;
    expect(new Set(bases)).toEqual(new Set([`node:${version}-bookworm-slim`]));
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(readFileSync(join(repoRoot, '.nvmrc'), 'utf8').trim()).toBe(version?.split('.')[0]);
    expect(packageJson.engines.node).toBe(`>=${MINIMUM_NODE_VERSION}`);
    expect(isNodeRecentEnough(version ?? '0')).toBe(true);
  });

  it('runs node itself under tini as the node user, never npm', () => {
    expect(args('USER', runtime)).toEqual(['node']);
    expect(args('ENTRYPOINT', runtime)).toEqual(['["/usr/bin/tini", "--"]']);
    expect(args('CMD', runtime)).toEqual(['["node", "dist/server.js"]']);
    expect(args('ENV', runtime)).toContain('NODE_ENV=production');
    expect(args('EXPOSE', runtime)).toEqual(['8080']);
    expect(args('HEALTHCHECK', runtime).join(' ')).toMatch(/CMD \["node", "-e", "fetch\(.*\/healthz/);
    expect(instructions.filter((i) => /npm (run )?start/.test(i.args))).toEqual([]);
  });

  it('declares no build argument and no secret-looking variable', () => {
    expect(args('ARG')).toEqual([]);
    const names = args('ENV').flatMap((env) => [...env.matchAll(/(\w+)=/g)].map((m) => m[1]));
    expect(names.filter((name) => /KEY|SECRET|TOKEN|PASSWORD|CREDENTIAL/i.test(name ?? ''))).toEqual([]);
  });

  it('installs production dependencies alone for the runtime stage, from the lockfile', () => {
    const copies = args('COPY', runtime);
    expect(copies.filter((c) => c.startsWith('--from='))).toEqual([
      '--from=deps /app/node_modules ./node_modules',
      '--from=build /app/dist ./dist',
    ]);
    const deps = stages.find((stage) => stage[0]?.args.endsWith('AS deps')) ?? [];
    expect(args('RUN', deps)).toEqual([expect.stringMatching(/^npm ci --omit=dev /)]);
    const build = stages.find((stage) => stage[0]?.args.endsWith('AS build')) ?? [];
    expect(args('RUN', build)).toEqual([expect.stringMatching(/^npm ci /), 'npm run build']);
  });
});
