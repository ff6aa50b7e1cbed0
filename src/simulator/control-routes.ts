import type { IncomingMessage } from 'node:http';
import { faultSchema, type FaultBook } from './faults';
import { parseJsonBody, readBody, type Reply } from './http-io';
import type { Ledger } from './ledger';

export interface ControlDeps {
  ledger: Ledger;
  faults: FaultBook;
  maxBodyBytes: number;
  reset: () => void;
}

const noContent: Reply = { status: 204 };

async function injectFault(deps: ControlDeps, req: IncomingMessage): Promise<Reply> {
  const raw = await readBody(req, deps.maxBodyBytes);
  if (raw.tooLarge) return { status: 413, json: { error: 'The fault is too large' } };
  const parsed = parseJsonBody(req, raw.text);
  if (!parsed.ok) return { status: 400, json: { error: parsed.message } };
  const fault = faultSchema.safeParse(parsed.value);
  if (!fault.success) return { status: 400, json: { error: 'Invalid fault', issues: fault.error.issues } };
  deps.faults.inject(fault.data);
  return noContent;
}

/** The simulator's own routes under `/_sim/`, for tests and demos; they leave no trace in the ledger. */
export async function handleControl(
  deps: ControlDeps,
  req: IncomingMessage,
  pathname: string,
): Promise<Reply> {
  const route = `${req.method} ${pathname}`;
  switch (route) {
    case 'GET /_sim/ledger':
      return { status: 200, json: deps.ledger.snapshot(), pretty: true };
    case 'POST /_sim/reset':
      deps.reset();
      return noContent;
    case 'POST /_sim/faults':
      return injectFault(deps, req);
    case 'DELETE /_sim/faults':
      deps.faults.clear();
      return noContent;
    default:
      return { status: 404, json: { error: `No simulator route ${route}` } };
  }
}
