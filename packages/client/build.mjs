/**
 * Builds dist/: CommonJS and declarations from tsc, ES modules from esbuild (one bundle per entry
 * point, shared code in one chunk so both entries share one BrokerError; React stays the app's),
 * and a .d.mts twin of every .d.ts so that TypeScript types an `import` as ESM.
 * Runs on `npm run build` and on `npm pack` (prepack), so a tarball and a git install carry it.
 * `node build.mjs <dir>` writes the same files elsewhere (the broker package's dist/client).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = dirname(fileURLToPath(import.meta.url));
const dist = resolve(process.argv[2] ?? join(root, 'dist'));

/** The entry points package.json `exports` names, as `.` and `./react`. */
const entryPoints = ['index', 'react'];

/** `./x` becomes `./x.mjs`, the ESM twin. */
const esmSpecifiers = (declarations) =>
  declarations.replace(
    /(from\s+|import\()(['"])(\.\.?\/[^'"]+)\2/g,
    (_match, lead, quote, specifier) => `${lead}${quote}${specifier}.mjs${quote}`,
  );

rmSync(dist, { recursive: true, force: true });
const tsc = require.resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json'), '--outDir', dist], {
  stdio: 'inherit',
});
const { build } = await import('esbuild');
await build({
  entryPoints: entryPoints.map((name) => join(root, 'src', `${name}.ts`)),
  outdir: dist,
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  external: ['react'],
  logLevel: 'warning',
});
for (const file of readdirSync(dist)) {
  if (!file.endsWith('.d.ts')) continue;
  const declarations = readFileSync(join(dist, file), 'utf8');
  writeFileSync(join(dist, file.replace(/\.d\.ts$/, '.d.mts')), esmSpecifiers(declarations));
}
