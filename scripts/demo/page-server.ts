import { join } from 'node:path';
import express from 'express';
import { listen } from './listen';
import { loadPageAssets, webRoot } from './page-bundle';

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

export async function startPageServer(options: PageServerOptions) {
  const assets = await loadPageAssets();
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
