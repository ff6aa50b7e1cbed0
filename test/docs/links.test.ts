import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brokenLinks, headingAnchors, headingSlug, markdownFiles } from '../../scripts/docs/markdown';

const root = join(__dirname, '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

describe('the README and docs/', () => {
  it('every relative link of every Markdown file leads to a file, and every #anchor to a heading', () => {
    const files = markdownFiles(root);
    expect(files).toEqual(
      expect.arrayContaining([
        'README.md',
        'docs/how-it-works.md',
        'docs/operations.md',
        'docs/observability.md',
        'bench/README.md',
        'test/container/README.md',
      ]),
    );
    expect(brokenLinks(root, files)).toEqual([]);
  });

  it('the README links every document in docs/', () => {
    const documents = readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md'));
    expect(documents.length).toBeGreaterThanOrEqual(4);
    expect(documents.filter((name) => !readme.includes(`](docs/${name})`))).toEqual([]);
  });

  it('the README is a manual of at most 400 lines', () => {
    expect(readme.split('\n').length).toBeLessThanOrEqual(400);
  });
});

describe('reading links as GitHub does', () => {
  it('anchors headings as GitHub does: lower case, punctuation dropped, spaces as hyphens', () => {
    expect(headingSlug('`POST /session`')).toBe('post-session');
    expect(headingSlug('The admin routes (`ADMIN_TOKEN`)')).toBe('the-admin-routes-admin_token');
    expect(headingSlug('How a create works, and what happens when things fail')).toBe(
      'how-a-create-works-and-what-happens-when-things-fail',
    );
    expect(headingSlug('Many hosts: Kubernetes')).toBe('many-hosts-kubernetes');
    expect(headingSlug('Run it [here](https://example.com) — fast')).toBe('run-it-here--fast');
    expect(headingSlug('Zeit für Größe')).toBe('zeit-für-größe');
    expect([
      ...headingAnchors('# Notes\n\n## Notes\n\n```sh\n# not a heading\n```\n\n### Notes #\n'),
    ]).toEqual(['notes', 'notes-1', 'notes-2']);
  });

  it('reports a missing file and a missing heading, and leaves code and other sites alone', () => {
    const dir = mkdtempSync(join(tmpdir(), 'broker-links-'));
    try {
      mkdirSync(join(dir, 'docs'));
      writeFileSync(join(dir, 'docs', 'b.md'), '# B\n\n## A real heading\n');
      writeFileSync(
        join(dir, 'a.md'),
        [
          '# Top',
          '[fine](docs/b.md#a-real-heading) [folder](docs/) [self](#top) [site](https://example.com/x.md)',
          '[gone](docs/c.md) [wrong anchor](docs/b.md#a-heading) [wrong self](#bottom)',
          '`[in code](nowhere.md)`',
          '```md',
          '[in a block](nowhere.md)',
          '```',
        ].join('\n'),
      );
      expect(brokenLinks(dir, ['a.md'])).toEqual([
        'a.md: docs/c.md (no such file)',
        'a.md: docs/b.md#a-heading (no such heading)',
        'a.md: #bottom (no such heading)',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
