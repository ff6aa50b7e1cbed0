export interface BenchOptions {
  upstreamLatencyMs: number;
  durationS: number;
  warmupS: number;
  concurrency: number;
  users: number;
  redisUrl: string | undefined;
  /** BENCH_CPU_PROFILE=1: a V8 CPU profile of the broker in bench/results/profiles/. */
  cpuProfile: boolean;
}

function positiveNumber(env: NodeJS.ProcessEnv, name: string, fallback: number, integer = false): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || (integer && !Number.isInteger(value))) {
    throw new Error(
      `${name} must be a${integer ? 'n integer' : ' number'} of at least 0, got ${JSON.stringify(raw)}`,
    );
  }
  return value;
}

/** BENCH_* variables; everything else about the broker is fixed by bench/world.ts. */
export function readBenchOptions(env: NodeJS.ProcessEnv): BenchOptions {
  const options: BenchOptions = {
    upstreamLatencyMs: positiveNumber(env, 'BENCH_UPSTREAM_LATENCY_MS', 20),
    durationS: positiveNumber(env, 'BENCH_DURATION_S', 10),
    warmupS: positiveNumber(env, 'BENCH_WARMUP_S', 2),
    concurrency: positiveNumber(env, 'BENCH_CONCURRENCY', 16, true),
    users: positiveNumber(env, 'BENCH_USERS', 500, true),
    redisUrl: env.BENCH_REDIS_URL?.trim() || undefined,
    cpuProfile: env.BENCH_CPU_PROFILE === '1',
  };
  if (options.durationS <= 0) throw new Error('BENCH_DURATION_S must be above 0');
  if (options.concurrency < 1 || options.concurrency > 512)
    throw new Error('BENCH_CONCURRENCY must be from 1 to 512');
  if (options.users < 1) throw new Error('BENCH_USERS must be at least 1');
  return options;
}
