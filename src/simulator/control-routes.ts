import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { faultSchema, type FaultBook } from './faults';
import { parseJsonBody, readBody, type Reply } from './http-io';
import type { Ledger } from './ledger';
import type { ModelCatalogue } from './model-catalogue';

export interface ControlDeps {
  ledger: Ledger;
  faults: FaultBook;
  models: ModelCatalogue;
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

const modelSetting = z.strictObject({
  shutdown_date: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/)
    .nullable(),
});

async function setModel(deps: ControlDeps, req: IncomingMessage, model: string): Promise<Reply> {
  const raw = await readBody(req, deps.maxBodyBytes);
  if (raw.tooLarge) return { status: 413, json: { error: 'The model setting is too large' } };
  const parsed = parseJsonBody(req, raw.text);
  if (!parsed.ok) return { status: 400, json: { error: parsed.message } };
  const setting = modelSetting.safeParse(parsed.value);
  if (!setting.success)
    return { status: 400, json: { error: 'Invalid model setting', issues: setting.error.issues } };
  deps.models.set(model, setting.data.shutdown_date);
  return noContent;
}

/** The simulator's own routes under `/_sim/`, for tests and demos; they leave no trace in the ledger. */
export async function handleControl(
  deps: ControlDeps,
  req: IncomingMessage,
  pathname: string,
): Promise<Reply> {
  const route = `${req.method} ${pathname}`;
  const model = /^\/_sim\/models\/([A-Za-z0-9._:-]{1,128})$/.exec(pathname)?.[1];
  if (model !== undefined && req.method === 'PUT') return setModel(deps, req, model);
  if (model !== undefined && req.method === 'DELETE') {
    deps.models.remove(model);
    return noContent;
  }
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
