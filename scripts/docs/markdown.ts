import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/**
 * The repository's Markdown documents, read as GitHub renders them: where the generated tables sit,
 * which headings a `#anchor` can name, and which relative links lead nowhere. Loads nothing but
 * `node:` modules, so Jest can import it (Prettier, which formats the tables, it cannot).
 */

/** Made by builds, runs or installs: never documents of the repository. */
const NOT_DOCUMENTS = new Set(['.git', 'node_modules', 'dist', 'coverage', '.tools', 'test-output']);
const NOT_DOCUMENT_PATHS = new Set(['bench/results']);

/** Every `.md` file of the repository under `root`, as paths relative to it with `/`, sorted. */
export function markdownFiles(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      const rel = relative(root, path).split(sep).join('/');
      if (entry.isDirectory()) {
        if (!NOT_DOCUMENTS.has(entry.name) && !NOT_DOCUMENT_PATHS.has(rel)) walk(path);
      } else if (entry.name.endsWith('.md')) {
        found.push(rel);
      }
    }
  };
  walk(root);
  return found.sort();
}

const MARKER = /<!-- generated:([\w-]+) -->/g;

/** The names of the generated sections a document holds, in order (`<!-- generated:NAME -->`). */
export function generatedSections(text: string): string[] {
  return [...text.matchAll(MARKER)].map((match) => match[1]!);
}

/** Fenced code blocks, where `#` and `[x](y)` are not Markdown. */
const FENCED = /^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm;

/** The text without code blocks and inline code. */
const prose = (text: string) => text.replace(FENCED, '').replace(/`[^`\n]*`/g, '');

/**
 * The anchor GitHub gives a heading's text: its rendered text lower-cased, punctuation and symbols
 * dropped (letters, digits, `_`, `-` and spaces stay), spaces turned into hyphens.
 */
export function headingSlug(heading: string): string {
  const rendered = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/`/g, '');
  return rendered
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors of a document's headings; a repeated one gets `-1`, `-2`, … as on GitHub. */
export function headingAnchors(text: string): Set<string> {
  const withoutFences = text.replace(FENCED, '');
  const anchors = new Set<string>();
  const counts = new Map<string, number>();
  for (const [, heading] of withoutFences.matchAll(/^ {0,3}#{1,6}[ \t]+(.*?)[ \t#]*$/gm)) {
    const slug = headingSlug(heading!);
    const seen = counts.get(slug) ?? 0;
    counts.set(slug, seen + 1);
    anchors.add(seen === 0 ? slug : `${slug}-${seen}`);
  }
  return anchors;
}

/** The targets of a document's inline links and images (`[text](target)`), outside code. */
export function linkTargets(text: string): string[] {
  return [...prose(text).matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((match) => match[1]!);
}

/** Whether a target leaves the repository (`https:`, `mailto:` and the like). */
const external = (target: string) => /^[a-z][a-z\d+.-]*:/i.test(target);

/**
 * Every relative link of the given documents that leads nowhere: to a path that does not exist, or
 * to a `#anchor` that no heading of the Markdown file it names has. Returns `file: target` lines.
 */
export function brokenLinks(root: string, files: string[]): string[] {
  const broken: string[] = [];
  const anchorsOf = new Map<string, Set<string>>();
  const anchors = (path: string) => {
    let known = anchorsOf.get(path);
    if (known === undefined) {
      known = headingAnchors(readFileSync(path, 'utf8'));
      anchorsOf.set(path, known);
    }
    return known;
  };
  for (const file of files) {
    const from = join(root, file);
    for (const target of linkTargets(readFileSync(from, 'utf8'))) {
      if (external(target)) continue;
      const [pathPart = '', anchor] = target.split('#', 2);
      const to = pathPart === '' ? from : resolve(dirname(from), decodeURI(pathPart));
      const problem = !existsSync(to)
        ? 'no such file'
        : anchor === undefined
          ? undefined
          : !statSync(to).isFile() || !to.endsWith('.md')
            ? 'an anchor into something that is not a Markdown file'
            : anchors(to).has(decodeURIComponent(anchor))
              ? undefined
              : 'no such heading';
      if (problem !== undefined) broken.push(`${file}: ${target} (${problem})`);
    }
  }
  return broken;
}
