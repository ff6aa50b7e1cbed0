import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { envSchema } from '../../src/config/load-config';

const root = join(__dirname, '..', '..');

describe('documents generated from the code', () => {
  it('the README holds the tables `npm run docs` writes (routes, errors, configuration, metrics)', () => {
    // A process of its own: Prettier, which lays out the tables, loads its parsers by dynamic import,
    // which Jest's module loader does not support.
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/generate-docs.ts', '--check'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
  });

  it('.env.example names every variable of the environment schema, and no other but Compose’s own', () => {
    const example = readFileSync(join(root, '.env.example'), 'utf8');
    const named = [...example.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1]);
    expect([...named].sort()).toEqual([...Object.keys(envSchema.shape), 'COMPOSE_PROFILES'].sort());
  });
});
