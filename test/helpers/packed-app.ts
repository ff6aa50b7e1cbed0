import { execFile } from 'node:child_process';
import { accessSync, constants, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './broker-process';

const run = promisify(execFile);

/** The PATH without node_modules/.bin: what a developer's shell has, with the machine's own Node. */
export const machinePath = (process.env.PATH ?? '')
  .split(delimiter)
  .filter((dir) => dir !== '' && !dir.split(/[\\/]/).includes('node_modules'))
  .join(delimiter);

function onMachinePath(command: string): string {
  for (const dir of machinePath.split(delimiter)) {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return realpathSync(join(dir, command));
    } catch {
      // Not in this folder.
    }
  }
  throw new Error(`no ${command} on the PATH outside node_modules`);
}

/** The machine's Node and npm (Node 20 on the CI machine), not the project's Node 22. */
export const machineNode = () => onMachinePath('node');
const machineNpm = () => onMachinePath('npm');

/** npm's downloads, kept between runs (and machines' CI runs) so that the install is quick. */
export const npmCacheDir = join(tmpdir(), 'avaturn-broker-npm-cache');

/** `npm pack` as a publisher runs it (prepack builds): the tarball's path and the files in it. */
export async function packPackage(
  dir: string,
  destination: string,
): Promise<{ tarball: string; files: string[] }> {
  const { name, version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    name: string;
    version: string;
  };
  await run('npm', ['pack', '--pack-destination', destination, '--no-fund', '--no-audit'], {
    cwd: dir,
    env: { ...process.env, npm_config_cache: npmCacheDir },
    maxBuffer: 16 * 1024 * 1024,
  });
  const tarball = join(destination, `${name}-${version}.tgz`);
  const { stdout } = await run('tar', ['-tzf', tarball]);
  return { tarball, files: stdout.split('\n').filter((line) => line !== '') };
}

/** Runs a command with the machine's Node first on the PATH, as a developer's terminal would. */
export function runOnMachineNode(args: string[], cwd: string) {
  return run(machineNode(), args, {
    cwd,
    env: { PATH: machinePath, HOME: process.env.HOME ?? tmpdir(), npm_config_cache: npmCacheDir },
    maxBuffer: 16 * 1024 * 1024,
  });
}

/** `npm install --engine-strict` on the machine's Node. */
export function installOnMachineNode(app: string) {
  return runOnMachineNode(
    [machineNpm(), 'install', '--engine-strict', '--prefer-offline', '--no-audit', '--no-fund'],
    app,
  );
}

/** Every package in a node_modules folder, scoped ones as `@scope/name`. */
export function installedPackages(nodeModules: string): string[] {
  return readdirSync(nodeModules)
    .filter((entry) => !entry.startsWith('.'))
    .flatMap((entry) =>
      entry.startsWith('@')
        ? readdirSync(join(nodeModules, entry)).map((name) => `${entry}/${name}`)
        : [entry],
    );
}

/** The server's runtime dependencies, none of which a frontend should get. */
export const serverDependencies = [
  'avaturn-broker',
  ...Object.keys(
    (
      JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
        dependencies: Record<string, string>;
      }
    ).dependencies,
  ),
];
