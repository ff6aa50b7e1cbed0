import { createHistogram, performance, type RecordableHistogram } from 'node:perf_hooks';

/** Milliseconds with microsecond resolution; histograms hold integer microseconds. */
export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export type Step = 'session' | 'create' | 'end';

export class Recorder {
  private readonly histograms = new Map<Step, RecordableHistogram>();

  /** Times `work` under `step` and returns its result. */
  async time<T>(step: Step, work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    const result = await work();
    this.record(step, performance.now() - started);
    return result;
  }

  record(step: Step, ms: number): void {
    let histogram = this.histograms.get(step);
    if (!histogram) this.histograms.set(step, (histogram = createHistogram()));
    histogram.record(Math.max(1, Math.round(ms * 1000)));
  }

  percentiles(): Partial<Record<Step, Percentiles>> {
    const out: Partial<Record<Step, Percentiles>> = {};
    for (const [step, h] of this.histograms) {
      const ms = (us: number) => Math.round(us) / 1000;
      out[step] = {
        p50: ms(h.percentile(50)),
        p90: ms(h.percentile(90)),
        p99: ms(h.percentile(99)),
        max: ms(h.max),
        mean: ms(h.mean),
      };
    }
    return out;
  }
}

export interface LoadResult {
  iterations: number;
  requests: number;
  errors: number;
  /** A few distinct error messages, for the report. */
  errorSamples: string[];
  elapsedS: number;
  latency: Partial<Record<Step, Percentiles>>;
}

export interface Iteration {
  /** Requests it sends (for requests/s). */
  requests: number;
  /** One unit of work; throws on any unexpected answer. `n` is the global iteration number. */
  run(recorder: Recorder, n: number): Promise<void>;
}

/**
 * A closed loop: `concurrency` workers, each starting its next iteration as soon as the last one
 * ends, until `durationMs` has passed. Iterations in flight at the end are waited for and counted.
 */
export async function runClosedLoop(
  iteration: Iteration,
  concurrency: number,
  durationMs: number,
): Promise<LoadResult> {
  const recorder = new Recorder();
  const errorSamples = new Set<string>();
  let iterations = 0;
  let errors = 0;
  let next = 0;
  const started = performance.now();
  const deadline = started + durationMs;

  async function worker(): Promise<void> {
    while (performance.now() < deadline) {
      const n = next++;
      const began = performance.now();
      try {
        await iteration.run(recorder, n);
        recorder.record('session', performance.now() - began);
        iterations++;
      } catch (err) {
        errors++;
        if (errorSamples.size < 5) errorSamples.add(err instanceof Error ? err.message : String(err));
      }
    }
  }

  await Promise.all(Array.from({ length: concurrency }, worker));
  return {
    iterations,
    requests: iterations * iteration.requests,
    errors,
    errorSamples: [...errorSamples],
    elapsedS: (performance.now() - started) / 1000,
    latency: recorder.percentiles(),
  };
}
