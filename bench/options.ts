export const STORES = ['memory', 'redis'] as const;
export type Store = (typeof STORES)[number];

export const SCENARIOS = ['throughput', 'latency', 'time-to-session', 'live-sessions'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface BenchOptions {
  /** Measured seconds per window. */
  durationS: number;
  /** Unmeasured seconds of the same load before each window, once per fresh process. */
  warmupS: number;
  /** How many times the latency scenario measures every system, in turns (medians are reported). */
  rounds: number;
  scenarios: ScenarioName[];
  stores: Store[];
  redisUrl: string;
  /** Distinct users the broker's load rotates through. */
  users: number;
  /** The largest live-session count measured (the 100,000). */
  maxLiveSessions: number;
  /** Seconds per store allowed for filling the store with live sessions; a slow store stops early. */
  populateBudgetS: number;
  /** BENCH_CPU_PROFILE=1: V8 CPU profiles of every broker process, summarised at the end. */
  cpuProfile: boolean;
}

function numberVar(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) {
    throw new Error(`${name} must be a number of at least ${min}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function listVar<T extends string>(env: NodeJS.ProcessEnv, name: string, all: readonly T[]): T[] {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return [...all];
  const picked = raw.split(',').map((s) => s.trim());
  const unknown = picked.filter((s) => !all.includes(s as T));
  if (unknown.length > 0) throw new Error(`${name}: unknown ${unknown.join(', ')}; known: ${all.join(', ')}`);
  return all.filter((s) => picked.includes(s));
}

/** The BENCH_* variables (see bench/README.md). */
export function readBenchOptions(env: NodeJS.ProcessEnv): BenchOptions {
  return {
    durationS: numberVar(env, 'BENCH_DURATION_S', 6, 0.5),
    warmupS: numberVar(env, 'BENCH_WARMUP_S', 2, 0),
    rounds: Math.round(numberVar(env, 'BENCH_ROUNDS', 1, 1)),
    scenarios: listVar(env, 'BENCH_SCENARIOS', SCENARIOS),
    stores: listVar(env, 'BENCH_STORES', STORES),
    redisUrl: env.BENCH_REDIS_URL?.trim() || 'redis://127.0.0.1:6379',
    users: Math.round(numberVar(env, 'BENCH_USERS', 500, 1)),
    maxLiveSessions: Math.round(numberVar(env, 'BENCH_LIVE_SESSIONS', 100_000, 100)),
    populateBudgetS: numberVar(env, 'BENCH_POPULATE_BUDGET_S', 45, 1),
    cpuProfile: env.BENCH_CPU_PROFILE === '1',
  };
}
