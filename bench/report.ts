import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LoadResult, Percentiles, Step } from './load';
import type { BenchOptions } from './options';
import type { ScenarioKind } from './scenarios';

type Deltas = Pick<Percentiles, 'p50' | 'p90' | 'p99'>;

export interface ScenarioResult {
  name: string;
  kind: ScenarioKind;
  baseline?: string;
  concurrency: number;
  elapsedS: number;
  /** Completed iterations: sessions created and ended (rejections for auth-reject). */
  iterations: number;
  iterationsPerS: number;
  requestsPerS: number;
  errors: number;
  errorSamples: string[];
  latencyMs: LoadResult['latency'];
  /** This scenario's percentiles minus its baseline's, per step. */
  overheadMs?: Partial<Record<Step, Deltas>>;
  broker?: {
    cpuMs: number;
    /** null when no iteration completed. */
    cpuMsPerIteration: number | null;
    peakRssMb: number;
    lifetimePeakRssMb: number;
    /** V8 heap after a full GC at the end of the window: tells a leak from RSS the GC has not given back. */
    retainedHeapMb: number | undefined;
  };
  /** The bench process itself (load generator and simulator), for context. */
  harnessCpuMsPerIteration: number | null;
}

export interface BenchReport {
  startedAt: string;
  node: string;
  cpus: number;
  options: Omit<BenchOptions, 'redisUrl'> & { store: string };
  method: string;
  scenarios: ScenarioResult[];
}

export function overhead(
  result: LoadResult['latency'],
  baseline: LoadResult['latency'],
): Partial<Record<Step, Deltas>> {
  const out: Partial<Record<Step, Deltas>> = {};
  for (const step of ['session', 'create', 'end'] as const) {
    const a = result[step];
    const b = baseline[step];
    if (!a || !b) continue;
    const d = (x: number, y: number) => Math.round((x - y) * 100) / 100;
    out[step] = { p50: d(a.p50, b.p50), p90: d(a.p90, b.p90), p99: d(a.p99, b.p99) };
  }
  return out;
}

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const n1 = (x: number | undefined) => (x === undefined ? '-' : x.toFixed(1));
const n2 = (x: number | null | undefined) => (x === undefined || x === null ? '-' : x.toFixed(2));
const signed = (x: number | undefined) => (x === undefined ? '-' : `${x >= 0 ? '+' : ''}${x.toFixed(2)}`);

export function formatReport(report: BenchReport): string {
  const { options } = report;
  const head =
    `avaturn-broker bench: node ${report.node}, ${report.cpus} CPUs, store ${options.store}, ` +
    `concurrency ${options.concurrency}, ${options.durationS} s per scenario after ${options.warmupS} s warm-up, ` +
    `upstream latency ${options.upstreamLatencyMs} ms per call, ${options.users} users`;

  const throughput = table(
    [
      'scenario',
      'iter/s',
      'req/s',
      'p50 ms',
      'p90 ms',
      'p99 ms',
      'max ms',
      'create p50',
      'create p99',
      'errors',
    ],
    report.scenarios.map((s) => {
      const l = s.latencyMs.session;
      const c = s.latencyMs.create;
      return [
        s.name,
        n1(s.iterationsPerS),
        n1(s.requestsPerS),
        n2(l?.p50),
        n2(l?.p90),
        n2(l?.p99),
        n2(l?.max),
        n2(c?.p50),
        n2(c?.p99),
        String(s.errors),
      ];
    }),
  );

  const cost = table(
    [
      'scenario',
      'vs',
      'Δp50 ms',
      'Δp90 ms',
      'Δp99 ms',
      'create Δp50',
      'create Δp99',
      'CPU ms/iter',
      'peak RSS MB',
      'heap after GC MB',
    ],
    report.scenarios
      .filter((s) => s.broker)
      .map((s) => [
        s.name,
        s.baseline ?? '(none)',
        signed(s.overheadMs?.session?.p50),
        signed(s.overheadMs?.session?.p90),
        signed(s.overheadMs?.session?.p99),
        signed(s.overheadMs?.create?.p50),
        signed(s.overheadMs?.create?.p99),
        n2(s.broker?.cpuMsPerIteration),
        n1(s.broker?.peakRssMb),
        n1(s.broker?.retainedHeapMb),
      ]),
  );

  const failures = report.scenarios
    .filter((s) => s.errors > 0)
    .map((s) => `  ${s.name}: ${s.errors} unexpected errors, e.g. ${s.errorSamples.join('; ')}`);

  return [
    head,
    '',
    'Latency of one iteration (create + end; one request for auth-reject):',
    throughput,
    '',
    'Broker cost (Δ = broker percentile minus baseline percentile at the same concurrency):',
    cost,
    '',
    report.method,
    ...(failures.length > 0 ? ['', 'ERRORS:', ...failures] : []),
  ].join('\n');
}

/** Writes bench/results/<timestamp>.json and bench/results/latest.json; returns the first path. */
export async function writeReport(report: BenchReport, dir = join(__dirname, 'results')): Promise<string> {
  await mkdir(dir, { recursive: true });
  const json = `${JSON.stringify(report, null, 2)}\n`;
  const path = join(dir, `${report.startedAt.replace(/[:.]/g, '-')}.json`);
  await writeFile(path, json);
  await writeFile(join(dir, 'latest.json'), json);
  return path;
}
