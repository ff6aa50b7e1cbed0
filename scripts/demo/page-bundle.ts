import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import type { BuildOptions } from 'esbuild';

/** The example page: its sources, or in the compiled demo (`dist/demo`) the copy `npm run build` wrote. */
export const webRoot = join(__dirname, '..', '..', 'examples', 'web');

const assetsFolder = 'assets';
/** What the page's TypeScript compiles from; everything else in the folder is served as is. */
const sourceFiles = new Set(['.ts', '.json']);

function bundleOptions(root: string, outdir: string): BuildOptions {
  return {
    entryPoints: [join(root, 'main.ts')],
    bundle: true,
    format: 'esm',
    // The Avaturn SDK is only loaded when real media is wanted.
    splitting: true,
    outdir,
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: 'linked',
    logLevel: 'silent',
  };
}

/**
 * The page's scripts by URL path. A prebuilt bundle is used when there is one (the compiled demo
 * in the image, where esbuild is not installed); otherwise the TypeScript is bundled in memory,
 * so development never writes or commits build output.
 */
export async function loadPageAssets(root = webRoot): Promise<Map<string, Uint8Array>> {
  const prebuilt = join(root, assetsFolder);
  if (existsSync(prebuilt)) {
    const names = await readdir(prebuilt);
    const files = await Promise.all(
      names.map(async (name) => [name, await readFile(join(prebuilt, name))] as const),
    );
    return new Map(files.map(([name, contents]) => [`/${assetsFolder}/${name}`, contents]));
  }
  const { build } = await import('esbuild');
  const result = await build({ ...bundleOptions(root, prebuilt), write: false });
  return new Map(
    result.outputFiles.map((file) => [`/${assetsFolder}/${basename(file.path)}`, file.contents]),
  );
}

/** Writes the page, bundled, into `outRoot`: what `loadPageAssets(outRoot)` serves without esbuild. */
export async function writePrebuiltPage(sourceRoot: string, outRoot: string): Promise<string[]> {
  const { build } = await import('esbuild');
  await rm(join(outRoot, assetsFolder), { recursive: true, force: true });
  await mkdir(outRoot, { recursive: true });
  await build({ ...bundleOptions(sourceRoot, join(outRoot, assetsFolder)), write: true });
  const statics = (await readdir(sourceRoot, { withFileTypes: true })).filter(
    (entry) => entry.isFile() && !sourceFiles.has(extname(entry.name)),
  );
  await Promise.all(
    statics.map((entry) => copyFile(join(sourceRoot, entry.name), join(outRoot, entry.name))),
  );
  return [
    ...statics.map((entry) => entry.name),
    ...(await readdir(join(outRoot, assetsFolder))).map((name) => `${assetsFolder}/${name}`),
  ];
}
