import { Agent, request, type Dispatcher } from 'undici';
import type { UpstreamName } from './types';
import { parseRetryAfterMs, UpstreamError } from './upstream-error';

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
  /** Only the status matters: the body is not read (nor capped), and `json` is undefined. */
  discardBody?: boolean;
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
    const deadline = deadlineSignal(req.timeoutMs, req.signal);
    try {
      const res = await request(req.url, {
        method: req.method,
        headers: {
          accept: 'application/json',
          ...req.headers,
          ...(req.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: req.body === undefined || typeof req.body === 'string' ? req.body : JSON.stringify(req.body),
        signal: deadline.signal,
        dispatcher: this.agent,
      });
      // A short body is drained so the connection can be reused; a longer one closes it.
      if (req.discardBody) await res.body.dump({ limit: maxUpstreamBodyBytes });
      const text = req.discardBody ? '' : (await readCapped(res.body)).toString('utf8');
      const header = (name: string) => {
        const value = res.headers[name];
        return Array.isArray(value) ? value[0] : value;
      };
      return {
        status: res.statusCode,
        json: parseJson(text),
        retryAfterMs: parseRetryAfterMs(header('retry-after')),
        requestId: header('x-request-id') ?? header('request-id'),
      };
    } catch (err) {
      throw toUpstreamError(err, req.upstream, deadline.timedOut(), req.signal);
    } finally {
      deadline.clear();
    }
  }

  /**
   * A fetch for SDKs (the openai client) on the same pool and rules: no redirects followed (a 3xx
   * reaches the SDK as an error status) and a capped body, read whole before the SDK sees it (the
   * answers are small JSON). Built on undici's `request`, which costs far less per call than its
   * WHATWG `fetch`.
   */
  readonly fetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, {
        method: (init.method ?? 'GET') as Dispatcher.HttpMethod,
        headers: plainHeaders(init.headers),
        body: init.body as string | Buffer | undefined,
        signal: init.signal ?? undefined,
        dispatcher: this.agent,
      });
    } catch (err) {
      // An abort may reject with a DOMException, which is not an `Error` of another realm (a test
      // runner's sandbox): the SDK would then take its own timeout for a connection failure.
      if (init.signal?.aborted)
        throw Object.assign(new Error('This operation was aborted'), { name: 'AbortError' });
      throw err;
    }
    const bytes = await readCapped(res.body);
    const headers = new Headers();
    for (const [name, value] of Object.entries(res.headers)) {
      for (const one of Array.isArray(value) ? value : [value ?? '']) headers.append(name, one);
    }
    const empty = res.statusCode === 204 || res.statusCode === 304 || bytes.length === 0;
    return new Response(empty ? null : (bytes as unknown as BodyInit), { status: res.statusCode, headers });
  };

  /** Drops every connection, in-flight calls too: what they were doing is queued or safe to lose. */
  close(): Promise<void> {
    return this.agent.destroy();
  }
}

/** Reads a body whole, refusing one over the cap (BodyTooLargeError) as soon as it passes it. */
async function readCapped(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > maxUpstreamBodyBytes) {
      body.destroy();
      throw new BodyTooLargeError();
    }
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

function plainHeaders(headers: HeadersInit | undefined): Record<string, string> {
  if (headers === undefined) return {};
  if (headers instanceof Headers || Array.isArray(headers))
    return Object.fromEntries(headers as Iterable<[string, string]>);
  return headers as Record<string, string>;
}

/**
 * Aborts after `ms`, or when the caller's signal does: one timer and one listener, cheaper than
 * `AbortSignal.any` with `AbortSignal.timeout` on every call.
 */
function deadlineSignal(ms: number, caller: AbortSignal | undefined) {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, ms);
  const onCallerAbort = () => controller.abort(caller?.reason);
  if (caller?.aborted) onCallerAbort();
  else caller?.addEventListener('abort', onCallerAbort, { once: true });
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    clear() {
      clearTimeout(timer);
      caller?.removeEventListener('abort', onCallerAbort);
    },
  };
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
  timedOut: boolean,
  caller?: AbortSignal,
): unknown {
  if (err instanceof UpstreamError) return err;
  if (err instanceof BodyTooLargeError)
    return new UpstreamError(upstream, 'bad-response', { reason: 'body over the size cap' });
  if (caller?.aborted) return caller.reason;
  if (timedOut) return new UpstreamError(upstream, 'timeout');
  return new UpstreamError(upstream, 'unreachable', { reason: err instanceof Error ? err.name : 'error' });
}
