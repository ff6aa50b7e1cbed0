import { readFileSync } from 'node:fs';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import type { Browser, Page } from 'playwright-core';
import { repoRoot } from '../helpers/broker-process';
import { launchChromium } from '../helpers/chromium';
import { isAlive, startDemoProcess, type DemoProcess } from '../helpers/demo-process';
import {
  installedPackages,
  installOnMachineNode,
  packPackage,
  runOnMachineNode,
  serverDependencies,
} from '../helpers/packed-app';
import { listenOn, type Listening } from '../helpers/serve';
import { eventually } from '../helpers/waiting';

const clientDir = join(repoRoot, 'packages', 'client');
const fixture = join(__dirname, 'vite-app');
// The app takes the versions the repository's own tooling uses: one npm cache serves both.
const { devDependencies: versions } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  devDependencies: Record<string, string>;
};
const viteVersion = '7.3.8';

interface Ledger {
  sessions: { sessionId: string; state: string; endedBy?: string }[];
}

describe('avaturn-broker-client, packed and installed into a fresh React + Vite app', () => {
  let work: string;
  let app: string;
  let clientFiles: string[];
  let brokerFiles: string[];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'avaturn-packed-'));
    const client = await packPackage(clientDir, work);
    clientFiles = client.files;
    brokerFiles = (await packPackage(repoRoot, work)).files;

    app = join(work, 'app');
    await cp(fixture, app, { recursive: true });
    await writeFile(
      join(app, 'package.json'),
      JSON.stringify(
        {
          name: 'my-frontend',
          private: true,
          type: 'module',
          dependencies: {
            'avaturn-broker-client': `file:${client.tarball}`,
            react: versions.react,
            'react-dom': versions['react-dom'],
          },
          devDependencies: {
            vite: viteVersion,
            typescript: versions.typescript,
            '@types/react': versions['@types/react'],
            '@types/react-dom': versions['@types/react-dom'],
          },
        },
        null,
        2,
      ),
    );
    await installOnMachineNode(app);
  }, 300_000);

  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('packs the client with its build and nothing else; the broker package carries the same client', () => {
    expect(clientFiles).toEqual(
      expect.arrayContaining([
        'package/package.json',
        'package/dist/index.js',
        'package/dist/index.mjs',
        'package/dist/index.d.ts',
        'package/dist/index.d.mts',
        'package/dist/react.js',
        'package/dist/react.mjs',
        'package/dist/react.d.ts',
        'package/dist/react.d.mts',
      ]),
    );
    expect(clientFiles.filter((file) => !/^package\/(dist\/|package\.json$|README\.md$)/.test(file))).toEqual(
      [],
    );
    expect(brokerFiles).toEqual(
      expect.arrayContaining([
        'package/dist/index.js',
        'package/dist/server.js',
        'package/dist/client/index.mjs',
        'package/dist/client/react.d.ts',
      ]),
    );
  });

  it('installs on the machine’s own Node with --engine-strict, and brings no server package', async () => {
    const { stdout } = await runOnMachineNode(['--version'], app);
    expect(stdout).toMatch(/^v\d+\./);
    const installed = installedPackages(join(app, 'node_modules'));
    expect(installed).toEqual(
      expect.arrayContaining(['avaturn-broker-client', 'react', 'react-dom', 'vite']),
    );
    expect(installed.filter((name) => serverDependencies.includes(name))).toEqual([]);
    const manifest = JSON.parse(
      await readFile(join(app, 'node_modules', 'avaturn-broker-client', 'package.json'), 'utf8'),
    ) as { dependencies?: object };
    expect(manifest.dependencies).toBeUndefined();
  });

  it('builds with vite build', async () => {
    await runOnMachineNode(
      [join('node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'],
      app,
    );
    const assets = await readdir(join(app, 'dist', 'assets'));
    const script = assets.find((file) => file.endsWith('.js'));
    expect(script).toBeDefined();
    const bundle = await readFile(join(app, 'dist', 'assets', script!), 'utf8');
    expect(bundle).toContain('/session');
  }, 120_000);

  it.each([
    ['bundler', 'tsconfig.json'],
    ['node10', 'tsconfig.node10.json'],
  ])(
    'type-checks with tsc under moduleResolution %s',
    async (_resolution, tsconfig) => {
      const tsc = join('node_modules', 'typescript', 'bin', 'tsc');
      const { stdout } = await runOnMachineNode([tsc, '-p', tsconfig, '--listFiles'], app);
      const packageTypes = stdout.split('\n').filter((file) => file.includes('avaturn-broker-client'));
      expect(packageTypes).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/dist\/index\.d\.m?ts$/),
          expect.stringMatching(/dist\/react\.d\.m?ts$/),
        ]),
      );
    },
    120_000,
  );

  describe('in headless Chromium, on its own origin, against npm run demo with DEMO_CORS_ORIGINS', () => {
    let appSite: Listening;
    let appUrl: string;
    let otherSite: Listening;
    let otherUrl: string;
    let demo: DemoProcess;
    let browser: Browser;

    beforeAll(async () => {
      const site = express().use(express.static(join(app, 'dist')));
      appSite = await listenOn(site);
      otherSite = await listenOn(site);
      ({ url: appUrl } = appSite);
      ({ url: otherUrl } = otherSite);
      demo = await startDemoProcess({
        DEMO_PAGE_PORT: '0',
        DEMO_BROKER_PORT: '0',
        DEMO_IDP_PORT: '0',
        DEMO_SIMULATOR_PORT: '0',
        DEMO_CORS_ORIGINS: appUrl,
      });
      browser = await launchChromium();
    }, 120_000);

    afterAll(async () => {
      await browser?.close();
      if (demo !== undefined) {
        process.kill(demo.npm.pid!, 'SIGTERM');
        await demo.exited;
        await eventually(() => expect(demo.processes.filter(isAlive)).toEqual([]), 15_000);
      }
      await appSite?.close();
      await otherSite?.close();
    });

    const ledger = async () => (await (await fetch(demo.urls.ledger)).json()) as Ledger;
    const open = async (origin: string, hash = ''): Promise<Page> => {
      const page = await browser.newPage();
      const query = new URLSearchParams({ broker: demo.urls.broker, idp: demo.urls.idp });
      await page.goto(`${origin}/?${query.toString()}${hash}`);
      return page;
    };

    it('signs in through the demo IdP, starts a session with Start held back while it is live, and ends it', async () => {
      const page = await open(appUrl);
      await page.getByTestId('user').fill('ada');
      await page.getByTestId('sign-in').click();
      const status = page.getByTestId('status');
      await status.filter({ hasText: 'idle' }).waitFor();

      await page.getByTestId('start').click();
      await status.filter({ hasText: 'live' }).waitFor();
      expect(await page.getByTestId('start').isDisabled()).toBe(true);
      const sessionId = await page.getByTestId('session-id').textContent();
      expect((await ledger()).sessions).toEqual([expect.objectContaining({ sessionId, state: 'live' })]);

      await page.getByTestId('stop').click();
      await status.filter({ hasText: 'ended' }).waitFor();
      expect(await page.getByTestId('start').isDisabled()).toBe(false);
      expect((await ledger()).sessions).toEqual([
        expect.objectContaining({ sessionId, state: 'ended', endedBy: 'delete' }),
      ]);
      await page.close();
    }, 60_000);

    it('on an origin the broker does not allow, says CORS and names the broker’s URL', async () => {
      const token = (await (
        await fetch(`${demo.urls.idp}/token`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ user: 'grace' }),
        })
      ).json()) as { access_token: string };
      const page = await open(otherUrl, `#token=${token.access_token}`);
      await page.getByTestId('start').click();
      const alert = page.getByTestId('error');
      await alert.waitFor();
      const message = await alert.textContent();
      expect(message).toContain(
        `The broker at ${demo.urls.broker} could not be reached from this page (${otherUrl})`,
      );
      expect(message).toContain(`add ${otherUrl} to the broker's CORS_ORIGINS`);
      expect(message).toMatch(/\(network-error\)$/);
      await page.close();
    }, 60_000);
  });
});
