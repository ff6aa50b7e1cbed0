import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { handleControl } from './control-routes';
import { assertLatency, createFaultBook } from './faults';
import { send } from './http-io';
import { createLedger } from './ledger';
import { createModelCatalogue } from './model-catalogue';
import { matchRoute } from './route-table';
import type { SimKeys, Simulator, SimulatorOptions } from './types';
import { handleUpstream, type UpstreamDeps } from './upstream-handler';
import { avaturnError } from './vendor-errors';

export const defaultSimKeys: SimKeys = {
  avaturn: 'sim-avaturn-key',
  openai: 'sim-openai-key',
  cartesia: 'sim-cartesia-key',
};

const defaultMaxBodyBytes = 64 * 1024;

/** Starts the three emulated upstreams on one port; nothing is shared between two simulators. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const clock = options.clock ?? Date.now;
  const keys: SimKeys = {
    avaturn: options.keys?.avaturn ?? defaultSimKeys.avaturn,
    openai: options.keys?.openai ?? defaultSimKeys.openai,
    cartesia: options.keys?.cartesia ?? defaultSimKeys.cartesia,
  };
  const ledger = createLedger(clock);
  const faults = createFaultBook();
  const models = createModelCatalogue(clock, options.models);
  const lifetime = new AbortController();
  const reset = () => {
    ledger.reset();
    faults.clear();
    models.reset();
  };
  const maxBodyBytes = options.maxBodyBytes ?? defaultMaxBodyBytes;
  const deps: UpstreamDeps = {
    ledger,
    faults,
    keys,
    models,
    clock,
    latencyMs: options.latencyMs === undefined ? undefined : assertLatency(options.latencyMs),
    maxBodyBytes,
    lifetime: lifetime.signal,
  };

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { pathname } = new URL(req.url ?? '/', 'http://sim');
    if (pathname.startsWith('/_sim/')) {
      send(res, await handleControl({ ledger, faults, models, maxBodyBytes, reset }, req, pathname));
      return;
    }
    const match = matchRoute(req.method ?? 'GET', pathname);
    if (match.kind === 'found') return handleUpstream(deps, match.def, match.params, req, res);
    // FastAPI's own bodies for these; no caller depends on how the other vendors word them.
    send(
      res,
      match.kind === 'none' ? avaturnError(404, 'Not Found') : avaturnError(405, 'Method Not Allowed'),
    );
  }

  const server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      if (res.headersSent) res.destroy();
      else send(res, { status: 500, json: { error: 'simulator failure', message: String(err) } });
    });
  });
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= new Promise<void>((resolve, reject) => {
      lifetime.abort();
      server.close((err) => (err ? reject(err) : resolve()));
      for (const socket of sockets) socket.destroy();
    }));

  return {
    url: `http://${host}:${port}`,
    keys,
    ledger: () => ledger.snapshot(),
    liveSessions: () => ledger.liveSessions(),
    inject: (fault) => faults.inject(fault),
    setModel: (model, shutdownDate) => models.set(model, shutdownDate),
    removeModel: (model) => models.remove(model),
    clearFaults: () => faults.clear(),
    reset,
    close,
  };
}
