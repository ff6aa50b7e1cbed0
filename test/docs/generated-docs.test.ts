import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { markdownFiles } from '../../scripts/docs/markdown';
import { envSchema } from '../../src/config/load-config';

const root = join(__dirname, '..', '..');

/**
 * `npm run docs --check` in a process of its own: Prettier, which lays out the tables, loads its
 * parsers by dynamic import, which Jest's module loader does not support.
 */
function checkDocs(args: string[] = []) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'scripts/generate-docs.ts', '--check', ...args], {
    cwd: root,
    encoding: 'utf8',
  });
}

describe('documents generated from the code', () => {
  it('every document holds the tables `npm run docs` writes (routes, errors, configuration, metrics)', () => {
    const run = checkDocs();
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
  });

  it('the check reads every Markdown file of the repository that holds a generated table', () => {
    // Found here by git, not by the generator's own walk, so a file it overlooked shows.
    const listed = spawnSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.md'], {
      cwd: root,
      encoding: 'utf8',
    });
    const holding = listed.stdout
      .split('\n')
      .filter((file) => file !== '' && readFileSync(join(root, file), 'utf8').includes('<!-- generated:'));
    expect(holding).toEqual(expect.arrayContaining(['README.md', 'docs/observability.md']));
    const checked = [...checkDocs().stdout.matchAll(/^(\S+) is up to date\.$/gm)].map((match) => match[1]);
    expect(checked.sort()).toEqual(holding.sort());
  });

  it('a stale table in any document fails the check, naming that document', () => {
    const copy = mkdtempSync(join(tmpdir(), 'broker-docs-'));
    try {
      for (const file of [...markdownFiles(root), '.prettierrc.json']) {
        mkdirSync(dirname(join(copy, file)), { recursive: true });
        cpSync(join(root, file), join(copy, file));
      }
      const observability = join(copy, 'docs', 'observability.md');
      const text = readFileSync(observability, 'utf8');
      const stale = text.replace('Sessions created upstream and handed to a caller.', 'Sessions made.');
      expect(stale).not.toBe(text);
      writeFileSync(observability, stale);

      const run = checkDocs(['--root', copy]);
      expect(run.status).toBe(1);
      expect(run.stderr).toContain('docs/observability.md is out of date with the code');
      expect(run.stdout).toContain('README.md is up to date.');
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it('.env.example names every variable of the environment schema, and no other but Compose’s own', () => {
    const example = readFileSync(join(root, '.env.example'), 'utf8');
    const named = [...example.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1]);
    expect([...named].sort()).toEqual([...Object.keys(envSchema.shape), 'COMPOSE_PROFILES'].sort());
  });
});
