/**
 * `avaturn-broker/client` and `avaturn-broker/react`, kept for apps that imported them from the
 * broker package: the client package (packages/client) built into dist/client, the paths
 * package.json `exports` names.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export const clientPackageDir = join(__dirname, '..', 'packages', 'client');

export function buildClientModules(outDir: string): void {
  execFileSync(process.execPath, [join(clientPackageDir, 'build.mjs'), outDir], { stdio: 'inherit' });
}

if (require.main === module) buildClientModules(join(__dirname, '..', 'dist', 'client'));
