import '../src/node-version';
import { mkdir, readdir } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { startChild, type Child } from './child';
import { compileForChildren } from './compile';
import { readBenchOptions } from './options';
import { summariseProfile, type ProfileSummary } from './profile-summary';
import { formatReport, judgeTargets, writeReport, type BenchReport } from './report';
import { scenarioRunners, settings, type Bench, type Row } from './scenarios';
import { signUserTokens } from './world';

const method = `Method: every system under test (the floor, the naive baseline, each broker) runs alone in a fresh
child process, so its CPU time (process.cpuUsage over the window, all threads, / sessions completed)
and its RSS (sampled every 50 ms) are its own. The fake upstreams (bench/fake-upstreams.ts: fixed
latency, no state) run in a process of their own and serve all systems alike; the load generator is
this process. Latency runs from the request leaving the client to the end of its answer's body.
Everything shares the machine's CPUs, with each other and with whatever else runs on the machine
(see the load average above): compare figures within one run, as ratios.`;

async function redisAnswers(url: string): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    return true;
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

function progress(row: Row): void {
  const w = row.window;
  const live = row.liveSessions ? ` with ${row.liveSessions.atStart.toLocaleString('en-US')} live` : '';
  process.stdout.write(
    `  ${row.scenario}${row.round === undefined ? '' : ` (round ${row.round})`} ${row.system}${live}: ${w.load.completedPerS.toFixed(0)} sessions/s, ` +
      `p50 ${w.load.latencyMs?.p50.toFixed(1) ?? '-'} ms, p99 ${w.load.latencyMs?.p99.toFixed(1) ?? '-'} ms, ` +
      `CPU ${w.cpuMsPerSession?.toFixed(3) ?? '-'} ms/session, ${w.load.errors} errors\n`,
  );
}

async function summariseProfiles(dir: string): Promise<ProfileSummary[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile')).sort();
  return Promise.all(files.map((f) => summariseProfile(join(dir, f), f.replace(/\.cpuprofile$/, ''))));
}

async function main(): Promise<number> {
  const options = readBenchOptions(process.env);
  const startedAt = new Date().toISOString();
  const began = performance.now();
  const loadStart = loadavg();
  const resultsDir = join(__dirname, 'results');
  const profileDir = options.cpuProfile
    ? join(resultsDir, 'profiles', startedAt.replace(/[:.]/g, '-'))
    : undefined;
  const children = new Set<Child>();
  const rows: Row[] = [];
  const notes: string[] = [];
  try {
    const latencies = new Set<number>();
    if (options.scenarios.includes('throughput')) latencies.add(settings.throughput.upstreamLatencyMs);
    if (options.scenarios.includes('latency')) latencies.add(settings.latency.upstreamLatencyMs);
    if (options.scenarios.includes('time-to-session'))
      latencies.add(settings.timeToSession.upstreamLatencyMs);
    if (options.scenarios.includes('live-sessions')) latencies.add(settings.liveSessions.upstreamLatencyMs);
    const buildDir = await compileForChildren();
    const upstreams = new Map<number, Child>();
    for (const latencyMs of latencies) {
      const child = await startChild({ buildDir, script: 'fake-upstreams', params: { latencyMs } });
      children.add(child);
      upstreams.set(latencyMs, child);
    }
    const redisAvailable = options.stores.includes('redis') && (await redisAnswers(options.redisUrl));
    if (options.stores.includes('redis') && !redisAvailable) {
      notes.push(`Redis did not answer at ${options.redisUrl} (BENCH_REDIS_URL): no Redis rows in this run.`);
      process.stdout.write(`${notes[notes.length - 1]}\n`);
    }
    if (profileDir) {
      await mkdir(profileDir, { recursive: true });
      notes.push(`CPU profiles (BENCH_CPU_PROFILE=1) in ${profileDir}; profiling slows the brokers down.`);
    }
    const bench: Bench = {
      options,
      upstreams,
      tokens: await signUserTokens(options.users),
      buildDir,
      redisAvailable,
      profileDir,
      children,
      report(row) {
        rows.push(row);
        progress(row);
      },
    };
    for (const scenario of options.scenarios) {
      process.stdout.write(`${scenario}\n`);
      await scenarioRunners[scenario](bench);
    }
    for (const child of upstreams.values()) {
      await child.stop();
      children.delete(child);
    }

    const cpuModel = cpus()[0]?.model.trim() ?? 'unknown';
    const { redisUrl: _redisUrl, ...shown } = options;
    const report: BenchReport = {
      startedAt,
      durationS: (performance.now() - began) / 1000,
      machine: {
        node: process.version,
        cpus: cpus().length,
        cpuModel,
        memoryGb: Math.round(totalmem() / 1024 ** 3),
        loadAverage: { start: loadStart, end: loadavg() },
      },
      options: shown,
      notes: [...notes, method],
      rows,
      targets: judgeTargets(rows, options.maxLiveSessions),
      ...(profileDir ? { profiles: await summariseProfiles(profileDir) } : {}),
    };
    const path = await writeReport(report, resultsDir);
    process.stdout.write(`\n${formatReport(report)}\n\nwritten to ${path} and bench/results/latest.json\n`);
    const errors = rows.reduce((sum, row) => sum + row.window.load.errors, 0);
    if (errors > 0) process.stderr.write(`bench: ${errors} requests failed unexpectedly\n`);
    return errors > 0 ? 1 : 0;
  } finally {
    await Promise.all([...children].map((child) => child.stop().catch(() => undefined)));
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
