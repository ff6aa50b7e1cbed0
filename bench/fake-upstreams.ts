import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runChild } from './child-runtime';

/*
 * Lean stand-ins for OpenAI, Cartesia and Avaturn, answering every call after the same fixed
 * latency. Unlike the simulator they remember nothing and check no key, so their cost stays flat
 * however many sessions a run creates, and the broker and both baselines meet the same upstream.
 */

export interface FakeUpstreamParams {
  latencyMs: number;
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
};

function answer(req: IncomingMessage, res: ServerResponse): void {
  const path = req.url ?? '/';
  if (req.method === 'POST' && path === '/v1/realtime/client_secrets') {
    return json(res, 200, {
      value: `ek_${randomUUID()}`,
      expires_at: Math.floor(Date.now() / 1000) + 600,
      session: { type: 'realtime', object: 'realtime.session', id: `sess_${randomUUID()}` },
    });
  }
  if (req.method === 'POST' && path === '/access-token')
    return json(res, 200, { token: `tk_${randomUUID()}` });
  if (req.method === 'POST' && path === '/api/v1/sessions') {
    return json(res, 200, { session_id: randomUUID(), token: `avt_${randomUUID()}` });
  }
  if (req.method === 'DELETE' && path.startsWith('/api/v1/sessions/')) return json(res, 200, {});
  json(res, 404, { detail: 'Not Found' });
}

runChild(async ({ latencyMs }: FakeUpstreamParams) => {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (latencyMs > 0) setTimeout(() => answer(req, res), latencyMs);
      else answer(req, res);
    });
  });
  // Longer than any client's idle timeout, so that a pooled connection is never closed under a request.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
});
