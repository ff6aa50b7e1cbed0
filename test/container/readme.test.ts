import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './engine';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
const codeSpans = [...new Set([...readme.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!))];
/** Made by builds, runs or the operator, so absent from a fresh clone. */
const generated = /^(\.env$|dist\/|bench\/results|test-output|node_modules)/;

describe('README', () => {
  it('names only npm scripts that exist', () => {
    const { scripts } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    const named = [...new Set([...readme.matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]!))];
    expect(named).toEqual(expect.arrayContaining(['demo', 'build', 'test:container']));
    expect(named.filter((name) => scripts[name] === undefined)).toEqual([]);
  });

  it('names only files and folders of the repository that exist', () => {
    const paths = codeSpans.filter(
      (span) =>
        /^(src|test|scripts|deploy|examples|bench|\.ci)\/[\w./-]*$/.test(span) ||
        /^(Dockerfile|docker-compose\.yml|\.dockerignore|\.env\.example|\.nvmrc|package\.json)$/.test(span),
    );
    expect(paths).toEqual(expect.arrayContaining(['Dockerfile', 'docker-compose.yml', 'deploy/kubernetes/']));
    expect(paths.filter((path) => !generated.test(path) && !existsSync(join(repoRoot, path)))).toEqual([]);
  });
});
