/**
 * The models OpenAI serves, as `GET /v1/models/{model}` tells them: `shutdown_date` is null, or the
 * day the model stops answering (as announced on 2026-07-20 for the first Realtime generation).
 */
const announced = '2027-01-20';
export const defaultModels: Readonly<Record<string, string | null>> = {
  'gpt-realtime-2.1': null,
  'gpt-realtime-2.1-mini': null,
  'gpt-realtime-2': null,
  'gpt-realtime-1.5': null,
  'gpt-realtime': announced,
  'gpt-realtime-2025-08-28': announced,
  'gpt-realtime-mini': announced,
  'gpt-realtime-mini-2025-10-06': announced,
  'gpt-realtime-mini-2025-12-15': announced,
};

export type ModelCatalogue = ReturnType<typeof createModelCatalogue>;

/** Which models exist and when each shuts down; a model past its date answers like an unknown one. */
export function createModelCatalogue(clock: () => number, initial: Record<string, string | null> = {}) {
  let models = new Map<string, string | null>();
  const reset = () => {
    models = new Map(Object.entries({ ...defaultModels, ...initial }));
  };
  reset();
  return {
    /** The model's shutdown date (or null), undefined when it does not exist. */
    get: (model: string) => models.get(model),
    set(model: string, shutdownDate: string | null): void {
      models.set(model, shutdownDate);
    },
    remove(model: string): void {
      models.delete(model);
    },
    /** Exists and has not reached its shutdown date. */
    serves(model: string): boolean {
      const date = models.get(model);
      if (date === undefined) return false;
      return date === null || clock() < Date.parse(`${date}T00:00:00Z`);
    },
    reset,
  };
}
