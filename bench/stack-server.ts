import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import helmet from 'helmet';
import { jwtVerify } from 'jose';
import OpenAI from 'openai';
import type { ClientSecretCreateParams } from 'openai/resources/realtime/client-secrets';
import { runChild } from './child-runtime';

/*
 * The third baseline: the design card's stack with none of the broker's own code. Express 5,
 * helmet, express.json, a jose check of the token on every request, the openai SDK with its
 * defaults and fetch to Avaturn; no registry, limits, logging, deadlines or compensation. What a
 * careful developer would write in an afternoon from the same parts the broker is built from.
 */

export interface StackParams {
  upstreamUrl: string;
  keys: { openai: string; avaturn: string };
  jwtSecret: string;
  /** The OpenAI client_secrets body the broker sends for the profile. */
  mintBody: ClientSecretCreateParams;
  /** The Avaturn create body the broker sends, without conversation_engine. */
  createBody: Record<string, unknown>;
  maxDurationSeconds: number;
}

runChild(async (params: StackParams) => {
  const secret = new TextEncoder().encode(params.jwtSecret);
  const openai = new OpenAI({ apiKey: params.keys.openai, baseURL: `${params.upstreamUrl}/v1` });

  const app = express();
  app.use(helmet());
  app.use(express.json());
  app.post('/session', async (req, res) => {
    const token = /^Bearer (.+)$/.exec(req.get('authorization') ?? '')?.[1];
    if (token === undefined) {
      res.status(401).end();
      return;
    }
    try {
      await jwtVerify(token, secret, { algorithms: ['HS256'] });
    } catch {
      res.status(401).end();
      return;
    }
    const minted = await openai.realtime.clientSecrets.create(params.mintBody);
    const created = await fetch(`${params.upstreamUrl}/api/v1/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${params.keys.avaturn}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        ...params.createBody,
        conversation_engine: { type: 'openai-realtime', client_secret: minted.value },
      }),
    });
    if (!created.ok) {
      res.status(502).end();
      return;
    }
    const session = (await created.json()) as { session_id: string; token: string };
    res
      .status(201)
      .set('cache-control', 'no-store')
      .json({
        session_id: session.session_id,
        token: session.token,
        expires_at: new Date(Date.now() + params.maxDurationSeconds * 1000).toISOString(),
      });
  });

  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  server.keepAliveTimeout = 65_000;
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    info: { mode: 'stack' },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
});
