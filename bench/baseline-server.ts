import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { runChild } from './child-runtime';

/*
 * The two baselines the broker is measured against, each a bare node:http server that answers
 * POST /session with nothing but the two upstream calls (mint, then create):
 * - floor: one pooled keep-alive undici agent, like the broker's own; the least any broker can do.
 * - naive: a fresh connection per upstream call, as in the vendors' quick-start servers, made the
 *   cheapest way Node has (node:http without an agent; a new undici Client per call costs more).
 * Neither authenticates, limits or registers anything.
 */

export interface BaselineParams {
  mode: 'floor' | 'naive';
  upstreamUrl: string;
  keys: { openai: string; avaturn: string };
  /** The OpenAI client_secrets body the broker sends for the profile. */
  mintBody: unknown;
  /** The Avaturn create body the broker sends, without conversation_engine. */
  createBody: Record<string, unknown>;
  maxDurationSeconds: number;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

runChild(async (params: BaselineParams) => {
  const pool = new Agent({ keepAliveTimeout: 30_000, connections: 64 });

  const headers = (key: string) => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' });

  async function pooledPost(path: string, key: string, body: unknown): Promise<Record<string, unknown>> {
    const res = await request(`${params.upstreamUrl}${path}`, {
      method: 'POST',
      headers: headers(key),
      body: JSON.stringify(body),
      dispatcher: pool,
    });
    const answer = (await res.body.json()) as Record<string, unknown>;
    if (res.statusCode !== 200) throw new Error(`${path}: ${res.statusCode}`);
    return answer;
  }

  function freshPost(path: string, key: string, body: unknown): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        `${params.upstreamUrl}${path}`,
        { method: 'POST', agent: false, headers: headers(key) },
        (res) => {
          readBody(res).then((text) => {
            if (res.statusCode !== 200) reject(new Error(`${path}: ${res.statusCode}`));
            else resolve(JSON.parse(text) as Record<string, unknown>);
          }, reject);
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });
  }

  const post = params.mode === 'floor' ? pooledPost : freshPost;

  async function createSession(raw: string): Promise<unknown> {
    JSON.parse(raw === '' ? '{}' : raw);
    const secret = await post('/v1/realtime/client_secrets', params.keys.openai, params.mintBody);
    const session = await post('/api/v1/sessions', params.keys.avaturn, {
      ...params.createBody,
      conversation_engine: { type: 'openai-realtime', client_secret: secret.value },
    });
    return {
      session_id: session.session_id,
      token: session.token,
      expires_at: new Date(Date.now() + params.maxDurationSeconds * 1000).toISOString(),
    };
  }

  const server = createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/session') {
      res.writeHead(404).end();
      return;
    }
    readBody(req)
      .then(createSession)
      .then(
        (body) => {
          res.writeHead(201, { 'content-type': 'application/json', 'cache-control': 'no-store' });
          res.end(JSON.stringify(body));
        },
        () => res.writeHead(502).end(),
      );
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    info: { mode: params.mode },
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await pool.close();
    },
  };
});
