import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { pickLatency, type FaultBook } from './faults';
import { parseJsonBody, readBody, send, type BodyRead, type JsonParse, type Reply } from './http-io';
import type { Ledger } from './ledger';
import type { ModelCatalogue } from './model-catalogue';
import type { RouteDef } from './route-def';
import type { SimFault, SimKeys, SimLatency } from './types';
import { genericError } from './vendor-errors';

export interface UpstreamDeps {
  ledger: Ledger;
  faults: FaultBook;
  keys: SimKeys;
  models: ModelCatalogue;
  clock: () => number;
  latencyMs: SimLatency | undefined;
  maxBodyBytes: number;
  /** Aborted when the simulator closes, so that no delayed answer outlives it. */
  lifetime: AbortSignal;
}

function recordedBody(raw: BodyRead, parsed: JsonParse | undefined): unknown {
  if (raw.tooLarge || raw.text.length === 0) return null;
  return parsed?.ok ? parsed.value : raw.text;
}

function faultReply(fault: SimFault | undefined, def: RouteDef, req: IncomingMessage): Reply | undefined {
  if (fault?.status === undefined && fault?.body === undefined) return undefined;
  const status = fault.status ?? 200;
  if (fault.body === undefined) {
    return status >= 400 ? genericError[def.upstream](req, status, fault.errorCode) : { status, json: {} };
  }
  return typeof fault.body === 'string' ? { status, text: fault.body } : { status, json: fault.body };
}

/**
 * One upstream call: record it, let an armed fault shape it, then answer as the vendor would.
 * With `afterEffect` the work happens on arrival, so it stands even if the answer never comes.
 */
export async function handleUpstream(
  deps: UpstreamDeps,
  def: RouteDef,
  params: string[],
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  let clientGone = false;
  res.on('close', () => (clientGone = true));

  const raw = await readBody(req, deps.maxBodyBytes);
  const parsed = raw.tooLarge ? undefined : parseJsonBody(req, raw.text);
  const call = deps.ledger.recordCall({
    upstream: def.upstream,
    route: def.route,
    method: def.method,
    path: new URL(req.url ?? '/', 'http://sim').pathname,
    status: null,
    at: deps.clock(),
    body: recordedBody(raw, parsed),
  });
  const fault = deps.faults.take(def.route);

  const answer = (): Reply => {
    if (!parsed) return genericError[def.upstream](req, 413, undefined, 'The request body is too large');
    if (!parsed.ok) return genericError[def.upstream](req, 400, undefined, parsed.message);
    return def.handle({
      req,
      params,
      body: parsed.value,
      ledger: deps.ledger,
      keys: deps.keys,
      models: deps.models,
    });
  };
  const early = fault?.afterEffect ? answer() : undefined;

  const latency = pickLatency(fault?.latencyMs ?? deps.latencyMs);
  if (latency > 0) {
    try {
      await sleep(latency, undefined, { signal: deps.lifetime });
    } catch {
      return;
    }
  }
  if (clientGone || fault?.hang) return;
  if (fault?.reset) {
    req.socket.resetAndDestroy();
    return;
  }

  const reply = faultReply(fault, def, req) ?? early ?? answer();
  const headers = { ...reply.headers };
  if (fault?.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
  send(res, { ...reply, headers });
  call.status = reply.status;
}
