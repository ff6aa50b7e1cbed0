import '../src/node-version';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/load-config';
import { startSimulator } from '../src/simulator';
import { startBrokerChild, type BrokerChild } from './broker-child';
import { runClosedLoop } from './load';
import { readBenchOptions, type BenchOptions } from './options';
import { formatReport, overhead, writeReport, type BenchReport, type ScenarioResult } from './report';
import {
  authRejectIteration,
  baselineIteration,
  brokerIteration,
  createPool,
  type Scenario,
} from './scenarios';
import { brokerEnv, profilesJson, signUserTokens, type BenchProfile } from './world';

const method = `Method: the broker runs alone in a child process (startServer from src/server.ts, through tsx), so its
CPU (process.cpuUsage over the measured window / completed iterations), peak RSS (sampled every 50 ms in
the window) and heap after GC (a full GC once the window has ended) are its own. This process holds the
load generator and the upstream simulator. A baseline sends the broker's upstream calls (mint, create,
delete) straight to the simulator, from here, at the same concurrency, with the same kind of keep-alive
pool; Δ is what going through the broker adds (two more loopback hops, auth, limits, the store,
validation, logging). Both processes share the machine's CPUs, so Δ includes CPU contention.`;

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

async function measure(
  scenario: Scenario,
  options: BenchOptions,
  broker: BrokerChild,
  resetUpstream: () => void,
  liveUpstream: () => number,
): Promise<ScenarioResult> {
  const { concurrency } = options;
  if (options.warmupS > 0) {
    const warm = await runClosedLoop(scenario.iteration, concurrency, options.warmupS * 1000);
    if (warm.errors > 0)
      throw new Error(
        `${scenario.name} warm-up: ${warm.errors} errors, e.g. ${warm.errorSamples.join('; ')}`,
      );
  }
  resetUpstream();
  const before = await broker.mark();
  const harnessBefore = process.cpuUsage();
  const result = await runClosedLoop(scenario.iteration, concurrency, options.durationS * 1000);
  const harness = process.cpuUsage(harnessBefore);
  const after = await broker.mark();

  const leaked = liveUpstream();
  const errorSamples =
    leaked > 0 ? [...result.errorSamples, `${leaked} upstream sessions left live`] : result.errorSamples;
  const perIteration = (ms: number) => (result.iterations > 0 ? ms / result.iterations : null);
  const brokerCpuMs =
    (after.cpu.user + after.cpu.system - before.cpuAfterMark.user - before.cpuAfterMark.system) / 1000;
  return {
    name: scenario.name,
    kind: scenario.kind,
    ...(scenario.baseline ? { baseline: scenario.baseline } : {}),
    concurrency,
    elapsedS: Math.round(result.elapsedS * 100) / 100,
    iterations: result.iterations,
    iterationsPerS: result.iterations / result.elapsedS,
    requestsPerS: result.requests / result.elapsedS,
    errors: result.errors + leaked,
    errorSamples,
    latencyMs: result.latency,
    ...(scenario.kind === 'baseline'
      ? {}
      : {
          broker: {
            cpuMs: Math.round(brokerCpuMs),
            cpuMsPerIteration: perIteration(brokerCpuMs),
            peakRssMb: mb(after.peakRssBytes),
            lifetimePeakRssMb: mb(after.lifetimePeakRssBytes),
            retainedHeapMb: after.retainedHeapBytes === undefined ? undefined : mb(after.retainedHeapBytes),
          },
        }),
    harnessCpuMsPerIteration: perIteration((harness.user + harness.system) / 1000),
  };
}

async function main(): Promise<number> {
  const options = readBenchOptions(process.env);
  const startedAt = new Date().toISOString();
  const sim = await startSimulator({ latencyMs: options.upstreamLatencyMs });
  const pools: ReturnType<typeof createPool>[] = [];
  let broker: BrokerChild | undefined;
  try {
    const env = brokerEnv(sim);
    const config = loadConfig(env, { readFile: () => profilesJson });
    const tokens = await signUserTokens(options.users);
    broker = await startBrokerChild(env, {
      profilesJson,
      redisUrl: options.redisUrl,
      cpuProfileDir: options.cpuProfile ? join(__dirname, 'results', 'profiles') : undefined,
    });
    const pool = () => {
      const created = createPool(options.concurrency);
      pools.push(created);
      return created;
    };

    const scenarios: Scenario[] = [];
    for (const profile of ['openai', 'cartesia'] as BenchProfile[]) {
      const baseline = `baseline:${profile}`;
      scenarios.push({
        name: baseline,
        kind: 'baseline',
        profile,
        iteration: baselineIteration(sim, config, profile, pool()),
      });
      scenarios.push({
        name: `broker:${profile}`,
        kind: 'broker',
        profile,
        baseline,
        iteration: brokerIteration(broker.url, tokens, profile, pool()),
      });
    }
    scenarios.push({
      name: 'auth-reject',
      kind: 'auth-reject',
      iteration: await authRejectIteration(broker.url, pool()),
    });

    process.stdout.write(
      `broker pid ${broker.pid} at ${broker.url} (store ${broker.store}${broker.keyPrefix ? `, prefix ${broker.keyPrefix}` : ''}); ` +
        `simulator at ${sim.url}\n`,
    );
    const results: ScenarioResult[] = [];
    for (const scenario of scenarios) {
      process.stdout.write(`  ${scenario.name} ...`);
      const result = await measure(
        scenario,
        options,
        broker,
        () => sim.reset(),
        () => sim.liveSessions().length,
      );
      const base = results.find((r) => r.name === scenario.baseline);
      if (base) result.overheadMs = overhead(result.latencyMs, base.latencyMs);
      results.push(result);
      process.stdout.write(` ${result.iterations} iterations, ${result.errors} errors\n`);
    }

    const { keysDeleted } = await broker.stop();
    broker = undefined;
    if (options.redisUrl) process.stdout.write(`  removed ${keysDeleted} Redis keys of the bench prefix\n`);

    const { redisUrl: _redisUrl, ...shown } = options;
    const report: BenchReport = {
      startedAt,
      node: process.version,
      cpus: availableParallelism(),
      options: { ...shown, store: options.redisUrl ? 'redis' : 'memory' },
      method,
      scenarios: results,
    };
    const path = await writeReport(report);
    process.stdout.write(`\n${formatReport(report)}\n\nwritten to ${path} and bench/results/latest.json\n`);
    const errors = results.reduce((sum, r) => sum + r.errors, 0);
    if (errors > 0) process.stderr.write(`bench: ${errors} requests failed unexpectedly\n`);
    return errors > 0 ? 1 : 0;
  } finally {
    await broker?.stop().catch(() => undefined);
    await Promise.all(pools.map((p) => p.close()));
    await sim.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
