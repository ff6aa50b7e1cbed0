import { execFile } from 'node:child_process';
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { buildClientModules, clientPackageDir } from '../../scripts/build-client';
import { repoRoot } from '../helpers/broker-process';

const run = promisify(execFile);

interface Snippet {
  file: string;
  line: number;
  language: 'ts' | 'tsx';
  code: string;
}

/** Every ```ts and ```tsx block, also one indented in a list item. */
export function extractSnippets(file: string, markdown: string): Snippet[] {
  const snippets: Snippet[] = [];
  for (const match of markdown.matchAll(/^( *)```(tsx?)\n([\s\S]*?)^\1```$/gm)) {
    const indent = match[1]!.length;
    const code = match[3]!
      .split('\n')
      .map((line) => line.slice(indent))
      .join('\n');
    const line = markdown.slice(0, match.index).split('\n').length + 1;
    snippets.push({ file, line, language: match[2] as 'ts' | 'tsx', code });
  }
  return snippets;
}

/** What the snippets assume the reader's app already has. */
const appGlobals = `declare const auth: { getAccessToken(): Promise<string> };
declare function getToken(): Promise<string>;
declare function show(message: string): void;
`;

async function documents(): Promise<string[]> {
  const docs = (await readdir(join(repoRoot, 'docs'))).filter((name) => name.endsWith('.md')).sort();
  return [join(repoRoot, 'README.md'), ...docs.map((name) => join(repoRoot, 'docs', name))];
}

describe('the TypeScript snippets of README.md and docs/*.md', () => {
  const work = join(repoRoot, 'test-output', `snippets-${process.pid}`);
  let snippets: Snippet[];

  beforeAll(async () => {
    snippets = [];
    for (const path of await documents())
      snippets.push(...extractSnippets(path.slice(repoRoot.length + 1), await readFile(path, 'utf8')));
    await rm(work, { recursive: true, force: true });
    // The client package as npm would install it: its package.json and its real build.
    const installed = join(work, 'node_modules', 'avaturn-broker-client');
    await mkdir(installed, { recursive: true });
    await copyFile(join(clientPackageDir, 'package.json'), join(installed, 'package.json'));
    buildClientModules(join(installed, 'dist'));
  }, 60_000);

  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('finds the client’s and the agent’s snippets', () => {
    const where = snippets.map((s) => `${s.file}:${s.language}`);
    expect(where).toEqual(
      expect.arrayContaining(['docs/client.md:ts', 'docs/client.md:tsx', 'docs/profiles.md:ts']),
    );
  });

  it('type-checks every one against the built client package, under strict', async () => {
    const files = snippets.map((snippet) => {
      const name = `${basename(snippet.file, '.md')}-line-${snippet.line}.${snippet.language}`;
      return { name, snippet };
    });
    for (const { name, snippet } of files) await writeFile(join(work, name), `${snippet.code}\nexport {};\n`);
    await writeFile(join(work, 'app-globals.d.ts'), appGlobals);
    await writeFile(
      join(work, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          lib: ['ES2022', 'DOM', 'DOM.Iterable'],
          module: 'ESNext',
          moduleResolution: 'bundler',
          jsx: 'react-jsx',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
          paths: { 'avaturn-broker': [join(repoRoot, 'src', 'index.ts')] },
        },
        files: ['app-globals.d.ts', ...files.map((f) => f.name)],
      }),
    );
    const result = await run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', work]).then(
      () => '',
      (err: { stdout: string }) => err.stdout,
    );
    // A failure names the document and the line where the snippet starts.
    expect(result).toBe('');
  }, 120_000);

  it('would catch a snippet that does not compile', () => {
    const [broken] = extractSnippets(
      'x.md',
      ['Some text', '', '  ```ts', '  const n: number = "one";', '  ```', ''].join('\n'),
    );
    expect(broken).toEqual({ file: 'x.md', line: 4, language: 'ts', code: 'const n: number = "one";\n' });
  });
});
