import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { promisify } from 'node:util';
import { build, type Metafile } from 'esbuild';
import { buildClientModules } from '../../scripts/build-client';
import packageJson from '../../package.json';
import { signToken } from '../fixtures/tokens';
import { useTestApp } from '../helpers/build-test-app';
import { listenOn, type Listening } from '../helpers/serve';

const run = promisify(execFile);
const repo = join(__dirname, '..', '..');
const serverDependencies = Object.keys(packageJson.dependencies);

/**
 * A frontend project in a temporary folder: the package as npm would install it (package.json
 * and the real `npm run build` output) and React, but none of the server's dependencies.
 */
async function installPackage(app: string): Promise<void> {
  const pkg = join(app, 'node_modules', 'avaturn-broker');
  await run(process.execPath, [
    require.resolve('typescript/bin/tsc'),
    '-p',
    join(repo, 'tsconfig.build.json'),
    '--outDir',
    join(pkg, 'dist'),
  ]);
  buildClientModules(join(pkg, 'dist', 'client'));
  await cp(join(repo, 'package.json'), join(pkg, 'package.json'));
  for (const dependency of ['react', '@types/react', 'csstype']) {
    await mkdir(join(app, 'node_modules', dependency, '..'), { recursive: true });
    await symlink(join(repo, 'node_modules', dependency), join(app, 'node_modules', dependency), 'dir');
  }
}

describe('the broker package keeps avaturn-broker/client and avaturn-broker/react, built from the client package', () => {
  let app: string;

  beforeAll(async () => {
    app = await mkdtemp(join(tmpdir(), 'avaturn-client-'));
    await installPackage(app);
  }, 60_000);
  afterAll(async () => {
    await rm(app, { recursive: true, force: true });
  });

  async function bundleInputs(source: string): Promise<string[]> {
    const entry = join(app, `entry-${Math.random().toString(36).slice(2)}.js`);
    await writeFile(entry, source);
    const result = await build({
      entryPoints: [entry],
      bundle: true,
      write: false,
      metafile: true,
      platform: 'browser',
      format: 'esm',
      // The server's dependencies are findable: only the client's own imports keep them out.
      nodePaths: [join(repo, 'node_modules')],
      logLevel: 'silent',
    });
    return Object.keys((result.metafile as Metafile).inputs)
      .filter((input) => input !== relative(process.cwd(), entry))
      .map((input) => relative(app, join(process.cwd(), input)));
  }

  const fromPackage = (input: string) =>
    input.startsWith(join('node_modules', 'avaturn-broker', 'dist', 'client') + sep);
  const fromServerDependency = (input: string) =>
    serverDependencies.some((name) => input.split(sep).join('/').includes(`node_modules/${name}/`));

  it('bundles for a browser through the import condition with nothing of the server in it', async () => {
    const inputs = await bundleInputs(
      `import { createBrokerClient, BrokerError } from 'avaturn-broker/client';
       import { useAvaturnSession } from 'avaturn-broker/react';
       console.log(createBrokerClient, BrokerError, useAvaturnSession);`,
    );
    const own = inputs.filter(fromPackage);
    expect(own.map((input) => input.split(sep).pop())).toEqual(
      expect.arrayContaining(['index.mjs', 'react.mjs', expect.stringMatching(/^chunk-.*\.mjs$/)]),
    );
    expect(inputs.filter((input) => !fromPackage(input) && !/[\\/]react[\\/]/.test(input))).toEqual([]);
    expect(inputs.filter(fromServerDependency)).toEqual([]);
  });

  it('bundles through the require condition with nothing of the server in it either', async () => {
    const inputs = await bundleInputs(`const { createBrokerClient } = require('avaturn-broker/client');
      console.log(createBrokerClient);`);
    expect(inputs.length).toBeGreaterThan(0);
    expect(inputs.every((input) => fromPackage(input) && input.endsWith('.js'))).toBe(true);
    expect(inputs.filter(fromServerDependency)).toEqual([]);
  });

  describe('in Node, with none of the server’s dependencies installed', () => {
    const t = useTestApp({ env: { LOG_LEVEL: 'silent', MAX_SESSIONS_PER_USER: '5' } }, { once: true });
    let broker: Listening;
    beforeAll(async () => {
      broker = await listenOn(t.broker.app);
    });
    afterAll(() => broker.close());

    const script = (load: string) => `${load}
      const client = createBrokerClient({ baseUrl: process.env.BROKER_URL, getToken: () => process.env.TOKEN });
      client.createSession().then((session) => console.log(JSON.stringify({
        sessionId: session.sessionId,
        brokerError: new BrokerError({ status: 0, code: 'network-error' }).message,
        hook: typeof useAvaturnSession,
      })));`;

    it.each([
      [
        'an ES module',
        'esm.mjs',
        `import { BrokerError, createBrokerClient } from 'avaturn-broker/client';
         import { useAvaturnSession } from 'avaturn-broker/react';`,
      ],
      [
        'CommonJS',
        'cjs.cjs',
        `const { BrokerError, createBrokerClient } = require('avaturn-broker/client');
         const { useAvaturnSession } = require('avaturn-broker/react');`,
      ],
    ])('loads as %s and creates a session against the broker', async (_kind, file, load) => {
      await writeFile(join(app, file), script(load));
      const { stdout } = await run(process.execPath, [join(app, file)], {
        cwd: app,
        env: { PATH: process.env.PATH, BROKER_URL: broker.url, TOKEN: await signToken({ sub: 'alice' }) },
      });
      const result = JSON.parse(stdout) as { sessionId: string; brokerError: string; hook: string };
      expect(result).toEqual({
        sessionId: expect.any(String),
        brokerError: 'The avatar service could not be reached. Check your connection. Try again in a moment.',
        hook: 'function',
      });
      expect(t.sim.liveSessions().map((s) => s.sessionId)).toContain(result.sessionId);
    });
  });

  it('types both conditions: an .mts consumer reads the .d.mts twins, a .cts one the .d.ts files', async () => {
    const use = `const client = createBrokerClient({ baseUrl: 'https://broker.example', getToken: async () => 'jwt' });
      export async function start(): Promise<boolean> {
        const session: BrokerSession = await client.createSession({ idempotencyKey: 'k' });
        return session.replayed;
      }
      export const status = (s: AvaturnSession): SessionStatus => s.status;
      export const isProblem = (e: unknown) => e instanceof BrokerError && e.retryAfterSeconds !== undefined;
      export const hook = useAvaturnSession;`;
    await writeFile(
      join(app, 'consumer.mts'),
      `import { BrokerError, createBrokerClient, type BrokerSession } from 'avaturn-broker/client';
       import { useAvaturnSession, type AvaturnSession, type SessionStatus } from 'avaturn-broker/react';
       ${use}`,
    );
    await writeFile(
      join(app, 'consumer.cts'),
      `import { BrokerError, createBrokerClient, type BrokerSession } from 'avaturn-broker/client';
       import { useAvaturnSession, type AvaturnSession, type SessionStatus } from 'avaturn-broker/react';
       ${use}`,
    );
    await writeFile(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          target: 'es2022',
          lib: ['es2022', 'dom'],
          strict: true,
          noEmit: true,
          types: [],
          skipLibCheck: false,
        },
        files: ['consumer.mts', 'consumer.cts'],
      }),
    );
    const { stdout } = await run(process.execPath, [
      require.resolve('typescript/bin/tsc'),
      '-p',
      app,
      '--listFiles',
    ]);
    const listed = stdout.split('\n').map((line) => line.split('/').slice(-2).join('/'));
    expect(listed).toEqual(
      expect.arrayContaining([
        'client/index.d.mts',
        'client/react.d.mts',
        'client/index.d.ts',
        'client/react.d.ts',
      ]),
    );
  }, 60_000);
});
