import { Agent, fetch as undiciFetch, request } from 'undici';
import type { UpstreamName } from './types';
import { parseRetryAfter, UpstreamError } from './upstream-error';

export const maxUpstreamBodyBytes = 64 * 1024;

/** Raised by `UpstreamHttp.fetch`; an SDK wraps it as its `cause`. */
export class BodyTooLargeError extends Error {
  constructor() {
    super('upstream body over the size cap');
    this.name = 'BodyTooLargeError';
  }
}

export interface UpstreamResponse {
  status: number;
  /** Parsed JSON, or undefined when the body was empty or not JSON. */
  json: unknown;
  retryAfterMs: number | undefined;
  requestId: string | undefined;
}

export interface UpstreamRequest {
  upstream: UpstreamName;
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  headers: Record<string, string>;
  /** Sent as JSON; a string is sent as it is (a signed body must go out byte for byte). */
  body?: unknown;
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * Pooled keep-alive HTTP for upstream calls: a deadline per call, no redirects, a cap on the
 * body, and every failure turned into an UpstreamError.
 */
export class UpstreamHttp {
  readonly agent = new Agent({
    keepAliveTimeout: 30_000,
    connections: 64,
    headersTimeout: 0,
    bodyTimeout: 0,
  });

  async send(req: UpstreamRequest): Promise<UpstreamResponse> {
    const timeout = AbortSignal.timeout(req.timeoutMs);
    const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
    try {
      const res = await request(req.url, {
        method: req.method,
        headers: {
          accept: 'application/json',
          ...req.headers,
          ...(req.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: req.body === undefined || typeof req.body === 'string' ? req.body : JSON.stringify(req.body),
        signal,
        dispatcher: this.agent,
      });
      const text = await readCapped(res.body, req.upstream);
      const header = (name: string) => {
        const value = res.headers[name];
        return Array.isArray(value) ? value[0] : value;
      };
      return {
        status: res.statusCode,
        json: parseJson(text),
        retryAfterMs: parseRetryAfter(header('retry-after')),
        requestId: header('x-request-id') ?? header('request-id'),
      };
    } catch (err) {
      throw toUpstreamError(err, req.upstream, timeout, req.signal);
    }
  }

  /**
   * A fetch for SDKs (the openai client) that shares the pool and the same rules: no redirects
   * followed (a 3xx reaches the SDK as an error status) and a capped body.
   */
  readonly fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const res = await undiciFetch(input as string, {
      ...(init as Record<string, unknown>),
      redirect: 'manual',
      dispatcher: this.agent,
    }).catch((err: unknown) => {
      // An abort rejects with a DOMException, which is not an `Error` of another realm (a test
      // runner's sandbox): the SDK would then take its own timeout for a connection failure.
      if (init?.signal?.aborted)
        throw Object.assign(new Error('This operation was aborted'), { name: 'AbortError' });
      throw err;
    });
    const length = res.headers.get('content-length');
    if (length !== null && Number(length) > maxUpstreamBodyBytes) {
      await res.body?.cancel();
      throw new BodyTooLargeError();
    }
    // undici holds a body to its declared length, so only an undeclared one needs counting.
    if (length !== null) return res as unknown as Response;
    let seen = 0;
    const body = res.body as unknown as ReadableStream<Uint8Array> | null;
    const capped = body?.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          seen += chunk.byteLength;
          if (seen > maxUpstreamBodyBytes) controller.error(new BodyTooLargeError());
          else controller.enqueue(chunk);
        },
      }),
    );
    return new Response(capped as unknown as BodyInit | undefined, {
      status: res.status,
      statusText: res.statusText,
      headers: res.headers as unknown as Headers,
    });
  };

  /** Drops every connection, in-flight calls too: what they were doing is queued or safe to lose. */
  close(): Promise<void> {
    return this.agent.destroy();
  }
}

async function readCapped(
  body: AsyncIterable<Buffer> & { destroy(): void },
  upstream: UpstreamName,
): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > maxUpstreamBodyBytes) {
      body.destroy();
      throw new UpstreamError(upstream, 'bad-response', { reason: 'body over the size cap' });
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function toUpstreamError(
  err: unknown,
  upstream: UpstreamName,
  timeout: AbortSignal,
  caller?: AbortSignal,
): unknown {
  if (err instanceof UpstreamError) return err;
  if (caller?.aborted) return caller.reason;
  if (timeout.aborted) return new UpstreamError(upstream, 'timeout');
  return new UpstreamError(upstream, 'unreachable', { reason: err instanceof Error ? err.name : 'error' });
}
