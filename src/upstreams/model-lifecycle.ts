import type { Profile } from '../config/types';
import type { Logger } from '../logger';
import { announcedShutdown } from './model-shutdowns';
import type { ModelLookup, ModelStatus } from './openai-models';

export interface ModelCheckOptions {
  /** Between two checks once every model was answered (default 12 hours). */
  intervalMs?: number;
  /** First pause after a check that could not reach OpenAI; doubles up to `intervalMs` (default 1 minute). */
  retryMs?: number;
}

export interface ModelLifecycleDeps extends ModelCheckOptions {
  profiles: Record<string, Profile>;
  lookup: ModelLookup;
  logger: Logger;
  clock: () => number;
}

/** A model whose shutdown date has come. */
export interface Retirement {
  date: string;
  replacement: string | undefined;
}

export interface ModelLifecycle {
  /** Checks now, in the background, and then on schedule; never awaited by anything that serves. */
  start(): void;
  stop(): void;
  /** Resolves when the check under way (if any) has finished; for tests and tooling. */
  idle(): Promise<void>;
  /** Shutdown times in epoch seconds, for every model that has a date (OpenAI's, else announced). */
  shutdownTimestamps(): Record<string, number>;
  /** Set once a model's shutdown date has passed; OpenAI's answer to a mint decides all the same. */
  retirement(model: string): Retirement | undefined;
}

const dayMs = 86_400_000;
/** How far ahead a coming shutdown is warned about. */
const warnAheadDays = 60;

/** Every distinct OpenAI model the profiles use, with the profiles that use it. */
function openAiModels(profiles: Record<string, Profile>): Map<string, string[]> {
  const models = new Map<string, string[]>();
  for (const profile of Object.values(profiles)) {
    if (profile.engine.type !== 'openai-realtime') continue;
    models.set(profile.engine.model, [...(models.get(profile.engine.model) ?? []), profile.name]);
  }
  return models;
}

const startOfDay = (date: string) => Date.parse(`${date}T00:00:00Z`);

/**
 * Knows when the models of the OpenAI profiles are shut down: from OpenAI (`GET /v1/models/{m}`,
 * `shutdown_date`) and, without an answer, from the announced dates. Tells the operator ahead of
 * time in the log and in a gauge; never blocks a start or a create.
 */
export function createModelLifecycle(deps: ModelLifecycleDeps): ModelLifecycle {
  const intervalMs = deps.intervalMs ?? 12 * 3_600_000;
  const firstRetryMs = deps.retryMs ?? 60_000;
  const models = openAiModels(deps.profiles);
  const answers = new Map<string, ModelStatus>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = true;
  let retryMs = firstRetryMs;

  function shutdownOf(model: string): { date: string; replacement: string | undefined } | undefined {
    const answer = answers.get(model);
    const announced = announcedShutdown(model);
    if (answer?.kind === 'found' && answer.shutdownDate !== null) {
      return { date: answer.shutdownDate, replacement: announced?.replacement };
    }
    return announced;
  }

  function report(model: string, profiles: string[]): void {
    const answer = answers.get(model);
    const fields = { model, profiles };
    if (answer?.kind === 'not-found') {
      const announced = announcedShutdown(model);
      const why =
        announced === undefined
          ? ''
          : ` (shut down on ${announced.date}; replacement: ${announced.replacement})`;
      deps.logger.error(
        { ...fields, code: 'model_not_found' },
        `OpenAI does not know the model ${model} of profile(s) ${profiles.join(', ')}${why}: creates will fail until it is changed`,
      );
      return;
    }
    if (answer?.kind === 'unknown') {
      deps.logger.warn(
        { ...fields, reason: answer.reason },
        `could not ask OpenAI about model ${model}; will retry`,
      );
    }
    const shutdown = shutdownOf(model);
    if (shutdown === undefined) return;
    const daysLeft = (startOfDay(shutdown.date) - deps.clock()) / dayMs;
    const withReplacement =
      shutdown.replacement === undefined ? '' : `; replacement: ${shutdown.replacement}`;
    const line = { ...fields, shutdown_date: shutdown.date, replacement: shutdown.replacement };
    if (daysLeft <= 0) {
      deps.logger.error(
        line,
        `OpenAI model ${model} of profile(s) ${profiles.join(', ')} was shut down on ${shutdown.date}${withReplacement}`,
      );
    } else if (daysLeft <= warnAheadDays) {
      deps.logger.warn(
        line,
        `OpenAI model ${model} of profile(s) ${profiles.join(', ')} shuts down on ${shutdown.date}${withReplacement}`,
      );
    }
  }

  async function check(): Promise<void> {
    await Promise.all(
      [...models.keys()].map(async (model) => {
        const answer = await deps.lookup(model);
        const previous = answers.get(model);
        // An unreachable OpenAI does not erase what an earlier check learnt.
        if (answer.kind === 'unknown' && previous !== undefined && previous.kind !== 'unknown') return;
        answers.set(model, answer);
      }),
    );
    for (const [model, profiles] of models) report(model, profiles);
    const unanswered = [...answers.values()].some((answer) => answer.kind === 'unknown');
    const nextMs = unanswered ? retryMs : intervalMs;
    retryMs = unanswered ? Math.min(retryMs * 2, intervalMs) : firstRetryMs;
    schedule(nextMs);
  }

  function schedule(ms: number): void {
    if (stopped) return;
    timer = setTimeout(run, ms);
    timer.unref();
  }

  function run(): void {
    running = check().catch((err: unknown) => {
      deps.logger.warn({ err }, 'the OpenAI model check failed; will retry');
      schedule(retryMs);
    });
  }

  return {
    start() {
      if (!stopped || models.size === 0) return;
      stopped = false;
      run();
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
    idle: () => running,
    shutdownTimestamps() {
      const timestamps: Record<string, number> = {};
      for (const model of models.keys()) {
        if (answers.get(model)?.kind === 'not-found') continue;
        const shutdown = shutdownOf(model);
        if (shutdown !== undefined) timestamps[model] = startOfDay(shutdown.date) / 1000;
      }
      return timestamps;
    },
    retirement(model) {
      const shutdown = shutdownOf(model);
      if (shutdown === undefined || startOfDay(shutdown.date) > deps.clock()) return undefined;
      return shutdown;
    },
  };
}
