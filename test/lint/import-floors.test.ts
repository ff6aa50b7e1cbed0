import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ESLint, type Linter } from 'eslint';

const root = join(__dirname, '..', '..');
// The repository's own eslint.config.js, loaded here because ESLint's own loader needs import(),
// which Jest's module sandbox does not offer.
const projectConfig = createRequire(__filename)('../../eslint.config.js') as Linter.Config[];
const withProjectConfig = { cwd: root, overrideConfigFile: true, baseConfig: projectConfig } as const;

// Type information is switched off here only to keep the test fast: the zones read import paths.
const eslint = new ESLint({
  ...withProjectConfig,
  overrideConfig: {
    languageOptions: { parserOptions: { projectService: false } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'off',
      '@typescript-eslint/no-misused-promises': 'off',
    },
  },
});

async function lint(filePath: string, code: string): Promise<Linter.LintMessage[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, filePath) });
  return result!.messages;
}

const floorErrors = (messages: Linter.LintMessage[]) =>
  messages.filter((message) => message.ruleId === 'no-restricted-imports');

describe('npm run lint › the floors of src/', () => {
  it.each([
    ['an upstream adapter importing a workflow', 'src/upstreams/retry.ts', '../sessions/terminations'],
    ['an upstream adapter importing the metrics', 'src/upstreams/premint-pool.ts', '../metrics'],
    ['the store importing a workflow', 'src/store/memory/memory-store.ts', '../../sessions/session-service'],
    ['a workflow importing the HTTP layer', 'src/sessions/terminations.ts', '../http/problem'],
    ['a route importing the entry point', 'src/http/routes/admin-routes.ts', '../../server'],
    ['the metrics importing the store', 'src/metrics.ts', './store/ports'],
    ['config importing anything outside config/', 'src/config/types.ts', '../errors'],
    ['the errors importing an adapter', 'src/errors.ts', './upstreams/types'],
    ['the simulator importing the broker', 'src/simulator/server.ts', '../config/load-config'],
    ['the client importing the broker', 'packages/client/src/index.ts', '../../../src/http/app'],
  ])('fails on %s', async (_story, filePath, target) => {
    const messages = await lint(filePath, `import { x } from '${target}';\nexport const y = x;\n`);
    expect(floorErrors(messages)).toEqual([
      expect.objectContaining({ severity: 2, line: 1, message: expect.stringContaining('CONTRIBUTING.md') }),
    ]);
  });

  it('fails on a type-only import that runs up too', async () => {
    const messages = await lint(
      'src/upstreams/webhook-sender.ts',
      "import type { LifecycleEvent } from '../sessions/lifecycle-events';\nexport type E = LifecycleEvent;\n",
    );
    expect(floorErrors(messages)).toHaveLength(1);
  });

  it.each([
    ['a route importing a workflow', 'src/http/routes/session-routes.ts', '../../sessions/session-service'],
    ['the HTTP layer importing the store past the workflows', 'src/http/rate-limits.ts', '../store/ports'],
    ['a workflow importing the store', 'src/sessions/terminations.ts', '../store/ports'],
    ['the composition root importing an adapter', 'src/sessions/broker.ts', '../upstreams/create-upstreams'],
    ['the store importing config', 'src/store/create-store.ts', '../config/types'],
    ['the metrics importing an upstream type', 'src/metrics.ts', './upstreams/types'],
    ['an adapter importing its neighbour', 'src/upstreams/avaturn-gateway.ts', './session-id'],
    ['config importing config', 'src/config/types.ts', './engines'],
    ['the simulator importing itself', 'src/simulator/server.ts', './ledger'],
    ['the entry point importing any floor', 'src/server.ts', './store/create-store'],
  ])('passes %s', async (_story, filePath, target) => {
    const messages = await lint(filePath, `import { x } from '${target}';\nexport const y = x;\n`);
    expect(floorErrors(messages)).toEqual([]);
  });

  it('keeps promise checks on, with type information, for the sources', async () => {
    const config = (await new ESLint(withProjectConfig).calculateConfigForFile(
      join(root, 'src/sessions/terminations.ts'),
    )) as Linter.Config;
    expect(config.rules?.['@typescript-eslint/no-floating-promises']).toEqual([2]);
    expect(config.rules?.['@typescript-eslint/no-misused-promises']).toEqual([2]);
    expect(config.languageOptions?.parserOptions).toMatchObject({ projectService: true });
  });
});
