import { createHistogram, performance, type RecordableHistogram } from 'node:perf_hooks';

/** Milliseconds with microsecond resolution. */
export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
  count: number;
}

/** One request; resolves once the whole answer body has arrived, throws on an unexpected answer. */
export type Send = (n: number) => Promise<void>;

export interface LoadResult {
  mode: 'closed' | 'open';
  /** Open loop: the rate asked for; closed loop: the connections kept busy. */
  target: number;
  sent: number;
  completed: number;
  errors: number;
  /** A few distinct error messages, for the report. */
  errorSamples: string[];
  elapsedS: number;
  completedPerS: number;
  /** From the moment the request was handed to the client to the end of its answer's body. */
  latencyMs: Percentiles | undefined;
  /** Open loop: how late requests left against their schedule (the generator's own lag). */
  sendLagMs?: Percentiles;
}

function histogram() {
  const h = createHistogram();
  return {
    record: (ms: number) => h.record(Math.max(1, Math.round(ms * 1000))),
    read: () => percentiles(h),
  };
}

function percentiles(h: RecordableHistogram): Percentiles | undefined {
  if (h.count === 0) return undefined;
  const ms = (us: number) => Math.round(us) / 1000;
  return {
    p50: ms(h.percentile(50)),
    p90: ms(h.percentile(90)),
    p99: ms(h.percentile(99)),
    max: ms(h.max),
    mean: ms(h.mean),
    count: h.count,
  };
}

function tally() {
  const latency = histogram();
  const errorSamples = new Set<string>();
  const counts = { sent: 0, completed: 0, errors: 0 };
  return {
    counts,
    latency,
    async timed(send: Send, n: number): Promise<void> {
      counts.sent++;
      const started = performance.now();
      try {
        await send(n);
        latency.record(performance.now() - started);
        counts.completed++;
      } catch (err) {
        counts.errors++;
        if (errorSamples.size < 5) errorSamples.add(err instanceof Error ? err.message : String(err));
      }
    },
    refuse(reason: string): void {
      counts.sent++;
      counts.errors++;
      if (errorSamples.size < 5) errorSamples.add(reason);
    },
    errorSamples: () => [...errorSamples],
  };
}

/**
 * A closed loop: `connections` workers, each sending its next request as soon as the last answer
 * has arrived, for `durationMs`. Shows the most a system can do; hides queueing.
 */
export async function runClosedLoop(
  send: Send,
  connections: number,
  durationMs: number,
): Promise<LoadResult> {
  const t = tally();
  const started = performance.now();
  const deadline = started + durationMs;
  let n = 0;
  async function worker(): Promise<void> {
    while (performance.now() < deadline) await t.timed(send, n++);
  }
  await Promise.all(Array.from({ length: connections }, worker));
  const elapsedS = (performance.now() - started) / 1000;
  return {
    mode: 'closed',
    target: connections,
    ...t.counts,
    errorSamples: t.errorSamples(),
    elapsedS,
    completedPerS: t.counts.completed / elapsedS,
    latencyMs: t.latency.read(),
  };
}

/**
 * An open loop: requests leave on a fixed schedule, `ratePerS`, whether or not earlier ones have
 * been answered, so a slow system builds a queue that shows in the latency. Past `maxInFlight`
 * unanswered requests a scheduled request is counted as an error instead of sent.
 */
export async function runOpenLoop(
  send: Send,
  ratePerS: number,
  durationMs: number,
  maxInFlight = 2_000,
): Promise<LoadResult> {
  const t = tally();
  const lag = histogram();
  const total = Math.max(1, Math.round((ratePerS * durationMs) / 1000));
  const intervalMs = 1000 / ratePerS;
  const inFlight = new Set<Promise<void>>();
  const started = performance.now();
  let n = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      for (; n < total && started + n * intervalMs <= now; n++) {
        lag.record(now - (started + n * intervalMs));
        if (inFlight.size >= maxInFlight) {
          t.refuse(`not sent: ${maxInFlight} requests were still unanswered`);
          continue;
        }
        const request = t.timed(send, n).finally(() => inFlight.delete(request));
        inFlight.add(request);
      }
      if (n >= total) resolve();
      else setTimeout(tick, Math.max(0, started + n * intervalMs - performance.now()));
    };
    tick();
  });
  await Promise.all(inFlight);
  const elapsedS = (performance.now() - started) / 1000;
  return {
    mode: 'open',
    target: ratePerS,
    ...t.counts,
    errorSamples: t.errorSamples(),
    elapsedS,
    completedPerS: t.counts.completed / elapsedS,
    latencyMs: t.latency.read(),
    sendLagMs: lag.read(),
  };
}
