import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Express } from 'express';

export interface RecordedResponse {
  method: string;
  /** As the client sent it, query included. */
  url: string;
  status: number;
  headers: OutgoingHttpHeaders;
  body: Buffer;
}

type Handle = (req: IncomingMessage, res: ServerResponse, next?: unknown) => void;
type Write = (chunk: unknown, ...rest: unknown[]) => unknown;

function toBuffer(chunk: unknown, encoding: unknown): Buffer | undefined {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk);
  if (typeof chunk === 'string')
    return Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  return undefined;
}

function watch(req: IncomingMessage, res: ServerResponse, into: RecordedResponse[]): void {
  const chunks: Buffer[] = [];
  const capture = (original: Write): Write =>
    function (this: unknown, chunk, ...rest) {
      const buffer = toBuffer(chunk, rest[0]);
      if (buffer !== undefined) chunks.push(buffer);
      return original.call(this, chunk, ...rest);
    };
  res.write = capture(res.write as Write) as typeof res.write;
  res.end = capture(res.end as Write) as typeof res.end;
  const { method = '', url = '' } = req;
  // Only answers written in full: one cut off by a hang-up or a destroyed socket never reached a client whole.
  res.once('finish', () =>
    into.push({
      method,
      url,
      status: res.statusCode,
      headers: res.getHeaders(),
      body: Buffer.concat(chunks),
    }),
  );
}

/**
 * Records every answer the app writes, however it is served (supertest, or `app.listen` in a test),
 * by wrapping the app's entry point. Answers Node's HTTP parser gives on its own (400, 408, 431
 * before a request is complete) never reach the app, so they are not the app's to check.
 */
export function recordResponses(app: Express): RecordedResponse[] {
  const recorded: RecordedResponse[] = [];
  const target = app as unknown as { handle: Handle };
  const handle = target.handle.bind(app);
  target.handle = (req, res, next) => {
    watch(req, res, recorded);
    handle(req, res, next);
  };
  return recorded;
}
