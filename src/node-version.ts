/**
 * Imported first by every entry point. undici and openai need a recent Node; on an older one they
 * fail deep inside a `require` with a stack trace that does not say what to do. package.json's
 * `engines.node` is checked against this value by the tests.
 */
export const MINIMUM_NODE_VERSION = '22.19.0';

function parts(version: string): number[] {
  return version.split('.').map((part) => Number.parseInt(part, 10) || 0);
}

export function isNodeRecentEnough(version: string, minimum = MINIMUM_NODE_VERSION): boolean {
  const have = parts(version);
  const need = parts(minimum);
  for (let i = 0; i < need.length; i += 1) {
    const diff = (have[i] ?? 0) - (need[i] ?? 0);
    if (diff !== 0) return diff > 0;
  }
  return true;
}

export function oldNodeMessage(version: string): string {
  return (
    `avaturn-broker needs Node.js ${MINIMUM_NODE_VERSION} or newer, but this is Node.js ${version}: ` +
    'install Node.js 22 (see .nvmrc), or run `npm ci` and then npm scripts, which use the Node 22 ' +
    'of the `node` devDependency.\n'
  );
}

if (!isNodeRecentEnough(process.versions.node)) {
  process.stderr.write(oldNodeMessage(process.versions.node));
  process.exit(1);
}
