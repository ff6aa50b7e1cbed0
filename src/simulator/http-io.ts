import type { IncomingMessage, ServerResponse } from 'node:http';

/** An answer, decided before anything is written so that a fault can delay or replace it. */
export interface Reply {
  status: number;
  /** Sent as JSON; a string `text` wins over it and goes out as text/plain. */
  json?: unknown;
  /** Indent the JSON, for a person reading it in a terminal or a browser tab. */
  pretty?: boolean;
  text?: string;
  headers?: Record<string, string>;
}

export type BodyRead = { tooLarge: false; text: string } | { tooLarge: true };

/**
 * Reads the whole body but keeps at most `maxBytes`: answering before the client has finished
 * sending would turn a clean 413 into a connection error on its side.
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<BodyRead> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) chunks.push(chunk);
    });
    req.on('end', () =>
      resolve(
        size > maxBytes
          ? { tooLarge: true }
          : { tooLarge: false, text: Buffer.concat(chunks).toString('utf8') },
      ),
    );
    req.on('error', reject);
  });
}

export type JsonParse = { ok: true; value: unknown } | { ok: false; message: string };

/** An empty body reads as `{}`, as the vendors treat it; anything else must be JSON. */
export function parseJsonBody(req: IncomingMessage, text: string): JsonParse {
  if (text.length === 0) return { ok: true, value: {} };
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    return { ok: false, message: 'Content-Type must be application/json' };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, message: 'The request body is not valid JSON' };
  }
}

export function bearerToken(req: IncomingMessage): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return match?.[1];
}

export function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

export function send(res: ServerResponse, reply: Reply): void {
  if (reply.status === 204) {
    res.writeHead(204, reply.headers).end();
    return;
  }
  const payload =
    reply.text !== undefined
      ? { type: 'text/plain; charset=utf-8', data: reply.text }
      : {
          type: 'application/json',
          data: reply.pretty
            ? `${JSON.stringify(reply.json ?? {}, null, 2)}\n`
            : JSON.stringify(reply.json ?? {}),
        };
  res.writeHead(reply.status, {
    'content-type': payload.type,
    'content-length': Buffer.byteLength(payload.data),
    ...reply.headers,
  });
  res.end(payload.data);
}
