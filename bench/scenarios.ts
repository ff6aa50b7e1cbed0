import { join } from 'node:path';
import { Agent, request, type Dispatcher } from 'undici';
import { startChild, type Child, type Usage } from './child';
import { runClosedLoop, runOpenLoop, type LoadResult, type Send } from './load';
import type { BenchOptions, ScenarioName, Store } from './options';
import { baselineParams, benchProfile, brokerEnv, profilesJson, stackParams } from './world';

/** The issue's scenarios, fixed so that every run measures the same thing. */
export const settings = {
  throughput: { connections: 50, upstreamLatencyMs: 0 },
  latency: { ratePerS: 200, upstreamLatencyMs: 40, liveSessions: 5_000 },
  timeToSession: { ratePerS: 20, upstreamLatencyMs: 40, poolSize: 8 },
  liveSessions: { ratePerS: 100, upstreamLatencyMs: 0, steps: [100, 10_000, 100_000] },
} as const;

export type SystemKind = 'floor' | 'naive' | 'stack' | 'broker';

export interface SystemSpec {
  kind: SystemKind;
  store?: Store;
  premintPoolSize?: number;
}

export function systemLabel(spec: SystemSpec): string {
  if (spec.kind !== 'broker') return spec.kind;
  return `broker (${spec.store}${spec.premintPoolSize ? `, pre-minted ×${spec.premintPoolSize}` : ''})`;
}

/** What one measured window cost the process under test. */
export interface Window {
  load: LoadResult;
  cpuMs: number;
  /** null when no request completed. */
  cpuMsPerSession: number | null;
  /** The main thread's share of that CPU time (the rest: GC, compiler and libuv threads); null off Linux. */
  mainThreadShare: number | null;
  peakRssMb: number;
  /** RSS when the window ended, before the mark's GC. */
  endRssMb: number;
  /** process.memoryUsage() then, in MB: V8's heap reserved and used, and memory outside it. */
  endMemoryMb: Record<keyof NodeJS.MemoryUsage, number>;
  heapAfterGcMb: number;
  /** How late the process's event loop ran (ms over a 10 ms timer), and its GC pauses, in the window. */
  eventLoopDelayMs: Usage['eventLoopDelayMs'];
  gcPausesMs: Usage['gcPausesMs'];
  /** The fake upstreams' and this process's (the load generator's) CPU per session, for context. */
  upstreamCpuMsPerSession: number | null;
  generatorCpuMsPerSession: number | null;
}

export interface Row {
  scenario: ScenarioName;
  system: string;
  kind: SystemKind;
  store?: Store;
  premintPoolSize?: number;
  upstreamLatencyMs: number;
  /** latency only, with BENCH_ROUNDS above 1: which round (from 1) this row was measured in. */
  round?: number;
  /** live-sessions only: the count aimed for, and what the store held around the window. */
  liveSessions?: { target: number; atStart: number; atEnd: number; populateS: number };
  window: Window;
}

export interface Bench {
  options: BenchOptions;
  /** Fake upstreams by latency (ms). */
  upstreams: Map<number, Child>;
  tokens: string[];
  /** Where the measured processes' compiled code is (bench/compile.ts). */
  buildDir: string;
  redisAvailable: boolean;
  /** Set when profiling: where the brokers' CPU profiles go. */
  profileDir: string | undefined;
  report(row: Row): void;
  /** Children to stop should the run fail. */
  children: Set<Child>;
}

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
const cpuMs = (from: Usage, to: Usage) =>
  (to.cpu.user + to.cpu.system - from.cpuAfterMark.user - from.cpuAfterMark.system) / 1000;

async function startSystem(bench: Bench, spec: SystemSpec, latencyMs: number) {
  const upstream = bench.upstreams.get(latencyMs)!;
  const child =
    spec.kind === 'broker'
      ? await startChild({
          buildDir: bench.buildDir,
          script: 'broker-process',
          params: {
            env: brokerEnv(upstream.url, { PREMINT_POOL_SIZE: String(spec.premintPoolSize ?? 0) }),
            profilesJson,
            ...(spec.store === 'redis' ? { redisUrl: bench.options.redisUrl } : {}),
          },
        })
      : spec.kind === 'stack'
        ? await startChild({
            buildDir: bench.buildDir,
            script: 'stack-server',
            params: stackParams(upstream.url),
          })
        : await startChild({
            buildDir: bench.buildDir,
            script: 'baseline-server',
            params: baselineParams(spec.kind, upstream.url),
          });
  bench.children.add(child);
  return { child, upstream };
}

async function stopSystem(bench: Bench, child: Child): Promise<void> {
  await child.stop();
  bench.children.delete(child);
}

/** Runs the load as one measured window; with `profile`, the system's CPU profile of it goes there. */
async function measure(
  sut: Child,
  upstream: Child,
  run: () => Promise<LoadResult>,
  profile: string | undefined,
): Promise<Window> {
  const [before, upstreamBefore] = [await sut.mark(), await upstream.mark()];
  if (profile !== undefined) await sut.call('profileStart');
  const generatorBefore = process.cpuUsage();
  const load = await run();
  const generator = process.cpuUsage(generatorBefore);
  const [after, upstreamAfter] = [await sut.mark(), await upstream.mark()];
  if (profile !== undefined) await sut.call('profileStop', { path: profile });
  const perSession = (ms: number) => (load.completed > 0 ? ms / load.completed : null);
  const used = cpuMs(before, after);
  return {
    load,
    cpuMs: Math.round(used),
    cpuMsPerSession: perSession(used),
    mainThreadShare:
      used > 0 && after.mainThreadMs !== undefined && before.mainThreadAfterMarkMs !== undefined
        ? (after.mainThreadMs - before.mainThreadAfterMarkMs) / used
        : null,
    peakRssMb: mb(after.peakRssBytes),
    endRssMb: mb(after.rssBytes),
    endMemoryMb: Object.fromEntries(
      Object.entries(after.memory).map(([key, bytes]) => [key, mb(bytes)]),
    ) as Window['endMemoryMb'],
    heapAfterGcMb: mb(after.retainedHeapBytes),
    eventLoopDelayMs: after.eventLoopDelayMs,
    gcPausesMs: after.gcPausesMs,
    upstreamCpuMsPerSession: perSession(cpuMs(upstreamBefore, upstreamAfter)),
    generatorCpuMsPerSession: perSession((generator.user + generator.system) / 1000),
  };
}

/** Throws what a warm-up went wrong with: a broken setup should not be measured. */
function assertClean(what: string, result: LoadResult): void {
  if (result.errors > 0)
    throw new Error(`${what} warm-up: ${result.errors} errors, e.g. ${result.errorSamples.join('; ')}`);
}

async function answer(res: Dispatcher.ResponseData, expected: number, what: string): Promise<string> {
  const text = await res.body.text();
  if (res.statusCode !== expected) {
    const code = /"code":"([a-z-]+)"/.exec(text)?.[1];
    throw new Error(`${what}: ${res.statusCode}${code ? ` ${code}` : ''}, expected ${expected}`);
  }
  return text;
}

/** POST /session as user n (the baselines ignore the token). */
function createSession(url: string, tokens: string[], client: Dispatcher): (n: number) => Promise<string> {
  const body = JSON.stringify({ profile: benchProfile });
  return async (n) => {
    const res = await request(`${url}/session`, {
      method: 'POST',
      headers: { authorization: tokens[n % tokens.length]!, 'content-type': 'application/json' },
      body,
      dispatcher: client,
    });
    return answer(res, 201, 'POST /session');
  };
}

/** A session's whole life through the broker: create it, then end it, so live sessions stay level. */
function sessionLifecycle(url: string, tokens: string[], client: Dispatcher): Send {
  const create = createSession(url, tokens, client);
  return async (n) => {
    const { session_id: id } = JSON.parse(await create(n)) as { session_id: string };
    const res = await request(`${url}/session/${id}`, {
      method: 'DELETE',
      headers: { authorization: tokens[n % tokens.length]! },
      dispatcher: client,
    });
    await answer(res, 204, 'DELETE /session/:id');
  };
}

/** Where a broker's (or the stack baseline's, made of the same parts) CPU profile of a window goes. */
function profilePath(bench: Bench, spec: SystemSpec, scenario: string, live?: number): string | undefined {
  if (bench.profileDir === undefined || (spec.kind !== 'broker' && spec.kind !== 'stack')) return undefined;
  const slug = systemLabel(spec).replace(/\W+/g, '-').replace(/-$/, '');
  return join(bench.profileDir, `${scenario}-${slug}${live === undefined ? '' : `-${live}-live`}.cpuprofile`);
}

const openClient = () => new Agent({ connections: 1024, keepAliveTimeout: 30_000 });

interface EachSystemOptions {
  beforeWarmup?: (sut: Child, spec: SystemSpec) => Promise<void>;
  /** Which round of several this is (BENCH_ROUNDS). */
  round?: number;
}

/** One fresh process per system and scenario: no state carried over, a clean heap to measure. */
async function eachSystem(
  bench: Bench,
  scenario: ScenarioName,
  latencyMs: number,
  systems: SystemSpec[],
  load: (send: Send, warmup: boolean) => Promise<LoadResult>,
  client: () => Agent,
  { beforeWarmup, round }: EachSystemOptions = {},
): Promise<void> {
  for (const spec of systems) {
    const { child, upstream } = await startSystem(bench, spec, latencyMs);
    const http = client();
    try {
      await beforeWarmup?.(child, spec);
      const create = createSession(child.url, bench.tokens, http);
      const send: Send = async (n) => void (await create(n));
      if (bench.options.warmupS > 0) assertClean(`${scenario} ${systemLabel(spec)}`, await load(send, true));
      const window = await measure(
        child,
        upstream,
        () => load(send, false),
        profilePath(bench, spec, round === undefined ? scenario : `${scenario}-round-${round}`),
      );
      bench.report({
        scenario,
        system: systemLabel(spec),
        kind: spec.kind,
        ...(spec.store ? { store: spec.store } : {}),
        ...(spec.premintPoolSize ? { premintPoolSize: spec.premintPoolSize } : {}),
        upstreamLatencyMs: latencyMs,
        ...(round === undefined ? {} : { round }),
        window,
      });
    } finally {
      await http.close();
      await stopSystem(bench, child);
    }
  }
}

const brokers = (bench: Bench): SystemSpec[] =>
  bench.options.stores
    .filter((store) => store !== 'redis' || bench.redisAvailable)
    .map((store) => ({ kind: 'broker', store }));

const withBaselines = (bench: Bench): SystemSpec[] => [
  { kind: 'floor' },
  { kind: 'naive' },
  { kind: 'stack' },
  ...brokers(bench),
];

export async function throughput(bench: Bench): Promise<void> {
  const { connections, upstreamLatencyMs } = settings.throughput;
  const { durationS, warmupS } = bench.options;
  await eachSystem(
    bench,
    'throughput',
    upstreamLatencyMs,
    withBaselines(bench),
    (send, warmup) => runClosedLoop(send, connections, (warmup ? warmupS : durationS) * 1000),
    () => new Agent({ connections, keepAliveTimeout: 30_000 }),
  );
}

/**
 * Open loop at 200/s with 40 ms upstream; each broker holds thousands of live sessions first. With
 * BENCH_ROUNDS above 1 every system is measured that many times, in turns, so that a busy spell
 * of the machine falls on all of them alike (the report takes medians).
 */
export async function latency(bench: Bench): Promise<void> {
  const { ratePerS, upstreamLatencyMs, liveSessions: live } = settings.latency;
  const { durationS, warmupS, rounds } = bench.options;
  const holdLiveSessions = async (sut: Child, spec: SystemSpec) => {
    if (spec.kind !== 'broker') return;
    const added = await sut.call<number>('addLiveSessions', {
      count: live,
      from: 0,
      concurrency: 64,
      deadline: Date.now() + bench.options.populateBudgetS * 1000,
    });
    if (added < live)
      throw new Error(`latency ${systemLabel(spec)}: only ${added} of ${live} live sessions added`);
  };
  for (let round = 1; round <= rounds; round++) {
    await eachSystem(
      bench,
      'latency',
      upstreamLatencyMs,
      withBaselines(bench),
      (send, warmup) => runOpenLoop(send, ratePerS, (warmup ? warmupS : durationS) * 1000),
      openClient,
      { beforeWarmup: holdLiveSessions, ...(rounds > 1 ? { round } : {}) },
    );
  }
}

export async function timeToSession(bench: Bench): Promise<void> {
  const { ratePerS, upstreamLatencyMs, poolSize } = settings.timeToSession;
  const { durationS, warmupS } = bench.options;
  const store = bench.options.stores[0] ?? 'memory';
  await eachSystem(
    bench,
    'time-to-session',
    upstreamLatencyMs,
    [
      { kind: 'broker', store },
      { kind: 'broker', store, premintPoolSize: poolSize },
    ],
    (send, warmup) => runOpenLoop(send, ratePerS, (warmup ? warmupS : durationS) * 1000),
    openClient,
    { beforeWarmup: async (sut) => void (await sut.call('premintReady')) },
  );
}

/**
 * CPU per session (create + end, so the count stays level) with 100, 10,000 and 100,000 live
 * sessions in one broker process, filled through the store between windows; memory at 10,000.
 */
export async function liveSessions(bench: Bench): Promise<void> {
  const { ratePerS, upstreamLatencyMs, steps } = settings.liveSessions;
  const { durationS, warmupS, maxLiveSessions, populateBudgetS } = bench.options;
  const targets = [...steps.filter((n) => n < maxLiveSessions), maxLiveSessions];
  for (const spec of brokers(bench)) {
    const { child, upstream } = await startSystem(bench, spec, upstreamLatencyMs);
    const http = openClient();
    try {
      const send = sessionLifecycle(child.url, bench.tokens, http);
      const run = (seconds: number) => runOpenLoop(send, ratePerS, seconds * 1000);
      if (warmupS > 0) assertClean(`live-sessions ${systemLabel(spec)}`, await run(warmupS));
      let budgetMs = populateBudgetS * 1000;
      let added = 0;
      for (const target of targets) {
        const populating = Date.now();
        const live = await child.call<number>('liveSessions');
        if (live < target && budgetMs > 0) {
          added += await child.call<number>('addLiveSessions', {
            count: target - live,
            from: added,
            concurrency: 64,
            deadline: populating + budgetMs,
          });
        }
        budgetMs -= Date.now() - populating;
        const populateS = Math.round((Date.now() - populating) / 100) / 10;
        const atStart = await child.call<number>('liveSessions');
        const profile = profilePath(bench, spec, 'live-sessions', atStart);
        const window = await measure(child, upstream, () => run(durationS), profile);
        const atEnd = await child.call<number>('liveSessions');
        bench.report({
          scenario: 'live-sessions',
          system: systemLabel(spec),
          kind: 'broker',
          ...(spec.store ? { store: spec.store } : {}),
          upstreamLatencyMs,
          liveSessions: { target, atStart, atEnd, populateS },
          window,
        });
        if (atStart < target) break;
      }
    } finally {
      await http.close();
      await stopSystem(bench, child);
    }
  }
}

export const scenarioRunners: Record<ScenarioName, (bench: Bench) => Promise<void>> = {
  throughput,
  latency,
  'time-to-session': timeToSession,
  'live-sessions': liveSessions,
};
