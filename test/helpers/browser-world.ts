import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { buildTestApp, type TestApp } from './build-test-app';
import { launchChromium } from './chromium';
import { listenOn, type Listening } from './serve';

/** A test page on its own origin, the real broker (CORS for that origin) and the simulator, in real Chromium. */
export interface BrowserWorld {
  t: TestApp;
  brokerUrl: string;
  pageUrl: string;
  /** Another page of the same origin, for navigating away. */
  elsewhereUrl: string;
  /** Errors thrown in every page opened so far. */
  pageErrors: string[];
  /** Opens the test page; `beforeLoad` runs on the blank page first (to route requests, say). */
  open(hash?: string, beforeLoad?: (page: Page) => Promise<unknown>): Promise<Page>;
  close(): Promise<void>;
}

const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8" /><title>test page</title>
<script type="module" src="/app.js"></script></head>
<body><div id="root"></div></body></html>`;

/** Bundles `entry` as a frontend would, with React's development build so StrictMode double-runs effects. */
async function bundle(entry: string): Promise<Uint8Array> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    define: { 'process.env.NODE_ENV': '"development"' },
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.contents;
}

export async function startBrowserWorld(
  entry: string,
  env: Record<string, string> = {},
): Promise<BrowserWorld> {
  const script = await bundle(entry);
  const servers: Listening[] = [];
  const pages = await listenOn((req, res) => {
    const path = new URL(req.url ?? '/', 'http://page').pathname;
    if (path === '/app.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(script);
    } else if (path === '/elsewhere') {
      res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>elsewhere</title>');
    } else if (path === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html' }).end(html);
    } else {
      res.writeHead(404).end();
    }
  });
  servers.push(pages);
  const t = await buildTestApp({ env: { LOG_LEVEL: 'silent', CORS_ORIGINS: pages.url, ...env } });
  const broker = await listenOn(t.broker.app);
  servers.push(broker);
  let browser: Browser | undefined;
  const pageErrors: string[] = [];
  const close = async () => {
    await browser?.close();
    for (const server of servers) await server.close();
    await t.close();
  };
  try {
    browser = await launchChromium();
  } catch (err) {
    await close();
    throw err;
  }
  const opened = browser;
  return {
    t,
    brokerUrl: broker.url,
    pageUrl: pages.url,
    elsewhereUrl: `${pages.url}/elsewhere`,
    pageErrors,
    async open(hash = '', beforeLoad) {
      const page = await opened.newPage();
      page.on('pageerror', (err) => pageErrors.push(err.message));
      await beforeLoad?.(page);
      await page.goto(`${pages.url}/${hash}`);
      return page;
    },
    close,
  };
}

/**
 * One world for a test file: started before its tests, reset before each (ledger, faults, page
 * errors), checked after each for errors thrown in its pages, and closed at the end.
 */
export function useBrowserWorld(entry: string, env?: Record<string, string>): () => BrowserWorld {
  let world: BrowserWorld | undefined;
  const current = () => {
    if (world === undefined) throw new Error('the browser world has not started');
    return world;
  };
  beforeAll(async () => {
    world = await startBrowserWorld(entry, env);
  }, 60_000);
  afterAll(async () => {
    await world?.close();
  });
  beforeEach(() => {
    current().t.sim.reset();
    current().pageErrors.length = 0;
  });
  afterEach(() => {
    expect(current().pageErrors).toEqual([]);
  });
  return current;
}
