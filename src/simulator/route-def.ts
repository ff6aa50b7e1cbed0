import type { IncomingMessage } from 'node:http';
import type { Reply } from './http-io';
import type { Ledger } from './ledger';
import type { ModelCatalogue } from './model-catalogue';
import type { SimKeys, SimRoute, SimUpstream } from './types';

export interface RouteContext {
  req: IncomingMessage;
  /** Captured path segments, decoded. */
  params: string[];
  /** The parsed JSON body; `{}` when the request had none. */
  body: unknown;
  ledger: Ledger;
  keys: SimKeys;
  models: ModelCatalogue;
}

export interface RouteDef {
  route: SimRoute;
  upstream: SimUpstream;
  method: string;
  path: RegExp;
  handle(ctx: RouteContext): Reply;
}
