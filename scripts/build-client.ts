/**
 * The frontend client's ES modules, next to the CommonJS that tsc writes to dist/client: esbuild
 * bundles each entry point (shared code in one chunk, so both entries share one BrokerError;
 * React stays the app's), and every .d.ts gets a .d.mts twin so TypeScript types an `import` as ESM.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';

const sourceDir = join(__dirname, '..', 'src', 'client');

/** The files package.json `exports` names, as `./client` and `./react`. */
export const clientEntryPoints = ['index', 'react'];

/** `./x` becomes `./x.mjs` (its ESM twin); `../x` (server types) stays CommonJS as `../x.js`. */
function esmSpecifiers(declarations: string): string {
  return declarations.replace(
    /(from\s+|import\()(['"])(\.\.?\/[^'"]+)\2/g,
    (_match, lead: string, quote: string, specifier: string) =>
      `${lead}${quote}${specifier}${specifier.startsWith('./') ? '.mjs' : '.js'}${quote}`,
  );
}

export async function buildClientModules(distDir: string): Promise<void> {
  const outdir = join(distDir, 'client');
  await build({
    entryPoints: clientEntryPoints.map((name) => join(sourceDir, `${name}.ts`)),
    outdir,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    external: ['react'],
    sourcemap: true,
    logLevel: 'warning',
  });
  for (const file of await readdir(outdir)) {
    if (!file.endsWith('.d.ts')) continue;
    const declarations = await readFile(join(outdir, file), 'utf8');
    await writeFile(join(outdir, file.replace(/\.d\.ts$/, '.d.mts')), esmSpecifiers(declarations));
  }
}

if (require.main === module) {
  buildClientModules(join(__dirname, '..', 'dist')).catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
