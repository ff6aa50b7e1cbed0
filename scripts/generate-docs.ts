import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderReadme } from './docs/readme-tables';

/**
 * Rewrites the README's generated tables (routes, errors, configuration, metrics) from the code.
 * With `--check` it writes nothing and fails when the README differs from what it would write.
 */
async function main(check: boolean): Promise<void> {
  const path = join(__dirname, '..', 'README.md');
  const current = readFileSync(path, 'utf8');
  const next = await renderReadme(current, path);
  if (next === current) {
    console.log('README.md is up to date.');
  } else if (check) {
    console.error('README.md is out of date with the code: run `npm run docs` and commit the result.');
    process.exitCode = 1;
  } else {
    writeFileSync(path, next);
    console.log('README.md rewritten.');
  }
}

main(process.argv.includes('--check')).catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
