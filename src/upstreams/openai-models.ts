import OpenAI from 'openai';
import { z } from 'zod';

/** What OpenAI says of one model: when it goes, that it does not exist, or nothing usable. */
export type ModelStatus =
  | { kind: 'found'; shutdownDate: string | null }
  | { kind: 'not-found' }
  | { kind: 'unknown'; reason: string };

export type ModelLookup = (model: string) => Promise<ModelStatus>;

const modelResponse = z.object({
  id: z.string(),
  shutdown_date: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}/)
    .nullish(),
});

/** `GET /v1/models/{model}` through the SDK; never throws. */
export function createOpenAiModelLookup(client: OpenAI): ModelLookup {
  return async (model) => {
    try {
      const parsed = modelResponse.safeParse(await client.models.retrieve(model, { maxRetries: 0 }));
      if (!parsed.success) return { kind: 'unknown', reason: 'model shape' };
      return { kind: 'found', shutdownDate: parsed.data.shutdown_date?.slice(0, 10) ?? null };
    } catch (err) {
      if (err instanceof OpenAI.NotFoundError && err.code === 'model_not_found') return { kind: 'not-found' };
      if (err instanceof OpenAI.APIError && err.status !== undefined) {
        return { kind: 'unknown', reason: `status ${err.status}` };
      }
      return { kind: 'unknown', reason: err instanceof Error ? err.name : 'error' };
    }
  };
}
