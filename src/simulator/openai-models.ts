import { bearerToken, type Reply } from './http-io';
import type { RouteContext } from './route-def';
import { openAiError } from './vendor-errors';

export function modelNotFound(model: string): Reply {
  return openAiError(404, `The model '${model}' does not exist or you do not have access to it.`, {
    code: 'model_not_found',
  });
}

export function retrieveModel({ req, params, keys, models }: RouteContext): Reply {
  if (bearerToken(req) !== keys.openai) {
    return openAiError(401, 'Incorrect API key provided.', { code: 'invalid_api_key' });
  }
  const model = params[0]!;
  const shutdownDate = models.get(model);
  if (shutdownDate === undefined) return modelNotFound(model);
  return {
    status: 200,
    json: {
      id: model,
      object: 'model',
      created: 1_756_339_200,
      owned_by: 'system',
      shutdown_date: shutdownDate,
    },
  };
}
