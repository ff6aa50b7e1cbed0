import { copyFile, readdir, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { build } from 'esbuild';

const root = join(__dirname, '..');

/**
 * Transpiles src/ and bench/ to plain CommonJS under bench/results/build/, file by file, so that
 * the measured processes run on plain `node` as `npm start` does: tsx's loader thread alone would
 * add some 40 MB of RSS and CPU of its own. Resolves to the directory that mirrors the repository.
 */
export async function compileForChildren(): Promise<string> {
  const outdir = join(__dirname, 'results', 'build');
  await rm(outdir, { recursive: true, force: true });
  const sources: string[] = [];
  for (const dir of ['src', 'bench']) {
    for (const entry of await readdir(join(root, dir), { recursive: true, withFileTypes: true })) {
      const path = join(entry.parentPath, entry.name);
      if (
        entry.isFile() &&
        entry.name.endsWith('.ts') &&
        !relative(root, path).startsWith(join('bench', 'results'))
      )
        sources.push(path);
    }
  }
  await build({
    entryPoints: sources,
    outdir,
    outbase: root,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    logLevel: 'warning',
  });
  // The code reads the package's own metadata (its version) from the repository root.
  await copyFile(join(root, 'package.json'), join(outdir, 'package.json'));
  return outdir;
}
