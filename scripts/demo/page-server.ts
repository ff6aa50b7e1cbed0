import { basename, join } from 'node:path';
import { build } from 'esbuild';
import express from 'express';
import { listen } from './listen';

/** What `examples/web` reads from `/config.json`; it holds no secret. */
export interface PageConfig {
  brokerUrl: string;
  idpUrl: string;
  avaturnApiHost: string;
  /** The upstreams are the simulator: sessions exist, but no media. */
  simulated: boolean;
}

export interface PageServerOptions {
  port: number;
  host: string;
  /** Read per request: the page's origin must be known before the broker it points to is started. */
  config: () => PageConfig;
}

export const webRoot = join(__dirname, '..', '..', 'examples', 'web');

/** Bundles the page's TypeScript in memory: no build output is ever written or committed. */
async function bundlePage(): Promise<Map<string, Uint8Array>> {
  const result = await build({
    entryPoints: [join(webRoot, 'main.ts')],
    bundle: true,
    format: 'esm',
    // The Avaturn SDK is only loaded when real media is wanted.
    splitting: true,
    outdir: join(webRoot, 'assets'),
    write: false,
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: 'linked',
    logLevel: 'silent',
  });
  return new Map(result.outputFiles.map((file) => [`/assets/${basename(file.path)}`, file.contents]));
}

export async function startPageServer(options: PageServerOptions) {
  const assets = await bundlePage();
  const app = express();
  app.disable('x-powered-by');
  app.use((_req, res, next) => {
    res.set({
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-store',
    });
    next();
  });
  app.get('/config.json', (_req, res) => {
    res.json(options.config());
  });
  app.get('/assets/:file', (req, res, next) => {
    const asset = assets.get(req.path);
    if (asset === undefined) return next();
    res.type(req.path.endsWith('.map') ? 'application/json' : 'text/javascript').send(Buffer.from(asset));
  });
  app.get('/', (_req, res) => {
    res.sendFile(join(webRoot, 'index.html'));
  });
  app.get('/styles.css', (_req, res) => {
    res.sendFile(join(webRoot, 'styles.css'));
  });
  return listen(app, options.port, options.host);
}
