import { handleCreateSession, handleTerminateSession } from './avaturn-routes';
import { mintAccessToken } from './cartesia-routes';
import { retrieveModel } from './openai-models';
import { mintClientSecret } from './openai-routes';
import type { RouteDef } from './route-def';

const routes: RouteDef[] = [
  {
    route: 'openai.mint',
    upstream: 'openai',
    method: 'POST',
    path: /^\/v1\/realtime\/client_secrets$/,
    handle: mintClientSecret,
  },
  {
    route: 'openai.model',
    upstream: 'openai',
    method: 'GET',
    path: /^\/v1\/models\/([^/]+)$/,
    handle: retrieveModel,
  },
  {
    route: 'cartesia.mint',
    upstream: 'cartesia',
    method: 'POST',
    path: /^\/access-token$/,
    handle: mintAccessToken,
  },
  {
    route: 'avaturn.create',
    upstream: 'avaturn',
    method: 'POST',
    path: /^\/api\/v1\/sessions$/,
    handle: handleCreateSession,
  },
  {
    route: 'avaturn.terminate',
    upstream: 'avaturn',
    method: 'DELETE',
    path: /^\/api\/v1\/sessions\/([^/]+)$/,
    handle: handleTerminateSession,
  },
];

export type RouteMatch =
  | { kind: 'found'; def: RouteDef; params: string[] }
  | { kind: 'wrong-method'; def: RouteDef }
  | { kind: 'none' };

function decode(segments: string[]): string[] | undefined {
  try {
    return segments.map((segment) => decodeURIComponent(segment));
  } catch {
    return undefined;
  }
}

export function matchRoute(method: string, pathname: string): RouteMatch {
  let wrongMethod: RouteDef | undefined;
  for (const def of routes) {
    const match = def.path.exec(pathname);
    const params = match && decode(match.slice(1));
    if (!params) continue;
    if (def.method === method) return { kind: 'found', def, params };
    wrongMethod = def;
  }
  return wrongMethod ? { kind: 'wrong-method', def: wrongMethod } : { kind: 'none' };
}
