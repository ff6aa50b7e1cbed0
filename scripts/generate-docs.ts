import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generatedSections, markdownFiles } from './docs/markdown';
import { GENERATED_SECTIONS, renderDocument } from './docs/readme-tables';

/**
 * Rewrites the generated tables (routes, errors, configuration, metrics) from the code, in every
 * Markdown file of the repository that holds one; each table is held by exactly one file. With
 * `--check` it writes nothing and fails when a file differs from what it would write. `--root DIR`
 * works on another copy of the repository.
 */
async function main(args: string[]): Promise<void> {
  const check = args.includes('--check');
  const rootAt = args.indexOf('--root');
  const root = rootAt >= 0 ? args[rootAt + 1]! : join(__dirname, '..');
  const holders = new Map<string, string[]>(Object.keys(GENERATED_SECTIONS).map((name) => [name, []]));
  for (const file of markdownFiles(root)) {
    const path = join(root, file);
    const current = readFileSync(path, 'utf8');
    const sections = generatedSections(current);
    if (sections.length === 0) continue;
    for (const name of sections) holders.get(name)?.push(file);
    const next = await renderDocument(current, path);
    if (next === current) {
      console.log(`${file} is up to date.`);
    } else if (check) {
      console.error(`${file} is out of date with the code: run \`npm run docs\` and commit the result.`);
      process.exitCode = 1;
    } else {
      writeFileSync(path, next);
      console.log(`${file} rewritten.`);
    }
  }
  for (const [name, files] of holders) {
    if (files.length !== 1) {
      console.error(
        `The ${name} table must be in exactly one file; it is in ${files.length}: ${files.join(', ')}`,
      );
      process.exitCode = 1;
    }
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
