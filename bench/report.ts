import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchOptions, Store } from './options';
import type { ProfileEntry, ProfileSummary } from './profile-summary';
import { medianOverRounds, pairedP99Excess } from './rounds';
import { settings, type Row, type Window } from './scenarios';

export interface Target {
  target: string;
  store?: Store;
  measured: string;
  status: 'met' | 'missed' | 'not measured';
  note?: string;
}

export interface BenchReport {
  startedAt: string;
  durationS: number;
  machine: {
    node: string;
    cpus: number;
    cpuModel: string;
    memoryGb: number;
    loadAverage: { start: number[]; end: number[] };
  };
  options: Omit<BenchOptions, 'redisUrl'>;
  notes: string[];
  rows: Row[];
  targets: Target[];
  profiles?: ProfileSummary[];
}

const fixed = (x: number | null | undefined, digits: number) =>
  x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits);
const thousands = (x: number) => Math.round(x).toLocaleString('en-US');
const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(1)}`;
const ratio = (a: number | null | undefined, b: number | null | undefined) =>
  a === null || a === undefined || b === null || b === undefined || b === 0 ? undefined : a / b;

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const find = (rows: Row[], scenario: Row['scenario'], predicate: (row: Row) => boolean = () => true) =>
  rows.find((row) => row.scenario === scenario && predicate(row));

function throughputTable(rows: Row[]): string | undefined {
  const all = rows.filter((r) => r.scenario === 'throughput');
  if (all.length === 0) return undefined;
  const floor = find(rows, 'throughput', (r) => r.kind === 'floor')?.window;
  const naive = find(rows, 'throughput', (r) => r.kind === 'naive')?.window;
  const stack = find(rows, 'throughput', (r) => r.kind === 'stack')?.window;
  return [
    `Throughput: ${settings.throughput.upstreamLatencyMs} ms upstream, closed loop, ${settings.throughput.connections} connections`,
    table(
      [
        'system',
        'sessions/s',
        '× floor',
        '× naive',
        '× stack',
        'p50 ms',
        'p99 ms',
        'CPU ms/session',
        '× floor CPU',
        '× stack CPU',
        'main thread',
        'peak RSS MB',
        'errors',
      ],
      all.map(({ system, window: w }) => [
        system,
        fixed(w.load.completedPerS, 0),
        fixed(ratio(w.load.completedPerS, floor?.load.completedPerS), 2),
        fixed(ratio(w.load.completedPerS, naive?.load.completedPerS), 2),
        fixed(ratio(w.load.completedPerS, stack?.load.completedPerS), 2),
        fixed(w.load.latencyMs?.p50, 1),
        fixed(w.load.latencyMs?.p99, 1),
        fixed(w.cpuMsPerSession, 3),
        fixed(ratio(w.cpuMsPerSession, floor?.cpuMsPerSession), 1),
        fixed(ratio(w.cpuMsPerSession, stack?.cpuMsPerSession), 2),
        w.mainThreadShare === null ? '-' : `${(w.mainThreadShare * 100).toFixed(0)} %`,
        fixed(w.peakRssMb, 0),
        String(w.load.errors),
      ]),
    ),
  ].join('\n');
}

function openLoopTable(
  rows: Row[],
  scenario: 'latency' | 'time-to-session',
  title: string,
): string | undefined {
  const all = rows.filter((r) => r.scenario === scenario);
  if (all.length === 0) return undefined;
  const reference =
    scenario === 'latency'
      ? find(rows, scenario, (r) => r.kind === 'floor')?.window
      : find(rows, scenario, (r) => !r.premintPoolSize)?.window;
  const vs = scenario === 'latency' ? 'floor' : 'without';
  const stack = find(rows, scenario, (r) => r.kind === 'stack')?.window.load.latencyMs;
  return [
    title,
    table(
      [
        'system',
        'done/s',
        'p50 ms',
        'p90 ms',
        'p99 ms',
        'max ms',
        `Δp50 vs ${vs}`,
        `Δp99 vs ${vs}`,
        ...(stack ? ['Δp99 vs stack'] : []),
        `p50 × ${vs}`,
        'CPU ms/session',
        'loop delay p99/max',
        'GC ms total/max',
        'send lag p99',
        'errors',
      ],
      all.map(({ system, window: w }) => {
        const l = w.load.latencyMs;
        const r = reference?.load.latencyMs;
        return [
          system,
          fixed(w.load.completedPerS, 0),
          fixed(l?.p50, 1),
          fixed(l?.p90, 1),
          fixed(l?.p99, 1),
          fixed(l?.max, 1),
          l && r ? signed(l.p50 - r.p50) : '-',
          l && r ? signed(l.p99 - r.p99) : '-',
          ...(stack ? [l ? signed(l.p99 - stack.p99) : '-'] : []),
          fixed(ratio(l?.p50, r?.p50), 2),
          fixed(w.cpuMsPerSession, 3),
          `${fixed(w.eventLoopDelayMs.p99, 0)}/${fixed(w.eventLoopDelayMs.max, 0)}`,
          `${fixed(w.gcPausesMs.total, 0)}/${fixed(w.gcPausesMs.max, 1)}`,
          fixed(w.load.sendLagMs?.p99, 1),
          String(w.load.errors),
        ];
      }),
    ),
  ].join('\n');
}

function liveSessionsTable(rows: Row[]): string | undefined {
  const all = rows.filter((r) => r.scenario === 'live-sessions');
  if (all.length === 0) return undefined;
  const { ratePerS, upstreamLatencyMs } = settings.liveSessions;
  return [
    `Live sessions: create + end at ${ratePerS}/s (open loop), ${upstreamLatencyMs} ms upstream, one broker process per store`,
    table(
      [
        'system',
        'live (aimed)',
        'live in window',
        'filled in s',
        'CPU ms/session',
        '× at 100',
        'p50 ms',
        'p99 ms',
        'peak RSS MB',
        'RSS at end MB',
        'heap after GC MB',
        'errors',
      ],
      all.map((row) => {
        const base = find(rows, 'live-sessions', (r) => r.system === row.system)!.window;
        const live = row.liveSessions!;
        return [
          row.system,
          thousands(live.target),
          `${thousands(live.atStart)}–${thousands(live.atEnd)}`,
          fixed(live.populateS, 1),
          fixed(row.window.cpuMsPerSession, 3),
          fixed(ratio(row.window.cpuMsPerSession, base.cpuMsPerSession), 2),
          fixed(row.window.load.latencyMs?.p50, 1),
          fixed(row.window.load.latencyMs?.p99, 1),
          fixed(row.window.peakRssMb, 0),
          fixed(row.window.endRssMb, 0),
          fixed(row.window.heapAfterGcMb, 1),
          String(row.window.load.errors),
        ];
      }),
    ),
  ].join('\n');
}

const judged = (ok: boolean): Target['status'] => (ok ? 'met' : 'missed');

/** The broker's sessions/s at 0 ms at least a baseline's. */
function throughputAtLeast(b: Window, base: Window, baseline: string, store: Store): Target {
  const vs = b.load.completedPerS / base.load.completedPerS;
  return {
    target: `sessions/s at 0 ms ≥ the ${baseline} baseline’s`,
    store,
    measured: `${fixed(b.load.completedPerS, 0)} vs ${fixed(base.load.completedPerS, 0)} (× ${vs.toFixed(2)})`,
    status: judged(vs >= 1),
  };
}

/** The broker's CPU per session at most `times` a baseline's. */
function cpuAtMost(b: Window, base: Window, target: string, times: number, store: Store): Target {
  const cpu = ratio(b.cpuMsPerSession, base.cpuMsPerSession) ?? Infinity;
  return {
    target,
    store,
    measured: `× ${cpu.toFixed(2)} (${fixed(b.cpuMsPerSession, 3)} vs ${fixed(base.cpuMsPerSession, 3)} ms)`,
    status: judged(cpu <= times),
  };
}

/** The issues' targets, judged from this run's rows (medians over rounds, where there are rounds). */
export function judgeTargets(measured: Row[], maxLiveSessions: number): Target[] {
  const targets: Target[] = [];
  const rows = medianOverRounds(measured);
  const stores = [...new Set(rows.flatMap((r) => (r.store ? [r.store] : [])))];
  const floorT = find(rows, 'throughput', (r) => r.kind === 'floor')?.window;
  const naiveT = find(rows, 'throughput', (r) => r.kind === 'naive')?.window;
  const floorL = find(rows, 'latency', (r) => r.kind === 'floor')?.window.load.latencyMs;
  const stackT = find(rows, 'throughput', (r) => r.kind === 'stack')?.window;
  const hasStackL = find(rows, 'latency', (r) => r.kind === 'stack') !== undefined;

  for (const store of stores) {
    const b = find(rows, 'throughput', (r) => r.kind === 'broker' && r.store === store)?.window;
    if (b && floorT && naiveT) {
      const vsFloor = b.load.completedPerS / floorT.load.completedPerS;
      targets.push(
        throughputAtLeast(b, naiveT, 'naive', store),
        {
          target: 'sessions/s at 0 ms ≥ 30 % of the floor’s',
          store,
          measured: `${(vsFloor * 100).toFixed(0)} % (${fixed(b.load.completedPerS, 0)} vs ${fixed(floorT.load.completedPerS, 0)})`,
          status: judged(vsFloor >= 0.3),
        },
        cpuAtMost(b, floorT, 'CPU per session ≤ 4 × the floor’s', 4, store),
      );
    }
    if (b && stackT) {
      targets.push(
        throughputAtLeast(b, stackT, 'stack', store),
        cpuAtMost(b, stackT, 'CPU per session ≤ the stack baseline’s', 1, store),
      );
    }
    const l = find(rows, 'latency', (r) => r.kind === 'broker' && r.store === store)?.window.load.latencyMs;
    const excess = hasStackL
      ? pairedP99Excess(
          measured,
          (r) => r.kind === 'broker' && r.store === store,
          (r) => r.kind === 'stack',
        )
      : undefined;
    if (excess) {
      const rounds = excess.rounds > 1 ? `, median of ${excess.rounds} rounds` : '';
      targets.push({
        target: `p99 at 40 ms, 200/s, ${thousands(settings.latency.liveSessions)} live ≤ stack’s + 10 ms`,
        store,
        measured: `${signed(excess.ms)} ms${rounds}`,
        status: judged(excess.ms <= 10),
      });
    }
    if (l && floorL) {
      targets.push(
        {
          target: 'p50 at 40 ms, 200/s ≤ floor’s + 2 ms',
          store,
          measured: `${signed(l.p50 - floorL.p50)} ms (${l.p50.toFixed(1)} vs ${floorL.p50.toFixed(1)})`,
          status: judged(l.p50 - floorL.p50 <= 2),
        },
        {
          target: 'p99 at 40 ms, 200/s ≤ floor’s + 10 ms',
          store,
          measured: `${signed(l.p99 - floorL.p99)} ms (${l.p99.toFixed(1)} vs ${floorL.p99.toFixed(1)})`,
          status: judged(l.p99 - floorL.p99 <= 10),
        },
      );
    }
    const live = rows.filter((r) => r.scenario === 'live-sessions' && r.store === store);
    const few = live[0];
    const most = live[live.length - 1];
    if (few && most && most !== few) {
      const growth = ratio(most.window.cpuMsPerSession, few.window.cpuMsPerSession) ?? Infinity;
      const reached = most.liveSessions!.atStart >= maxLiveSessions;
      const within = growth <= 1.2;
      targets.push({
        target: `CPU per session at ${thousands(maxLiveSessions)} live within 20 % of at ${thousands(few.liveSessions!.target)}`,
        store,
        measured: `× ${growth.toFixed(2)} at ${thousands(most.liveSessions!.atStart)} live`,
        status: reached ? judged(within) : within ? 'not measured' : 'missed',
        ...(reached
          ? {}
          : {
              note: `filling the store stopped at ${thousands(most.liveSessions!.atStart)} sessions when the populate budget ran out: each add costs more as the store grows`,
            }),
      });
    }
    const rss = live.find((r) => r.liveSessions!.target === 10_000);
    if (store === 'memory' && rss) {
      targets.push({
        target: 'RSS ≤ 150 MB with 10,000 live sessions',
        store,
        measured: `${fixed(rss.window.peakRssMb, 0)} MB peak, ${fixed(rss.window.endRssMb, 0)} at the end (heap after GC ${fixed(rss.window.heapAfterGcMb, 0)})`,
        status: judged(rss.window.peakRssMb <= 150),
      });
    }
  }
  const without = find(rows, 'time-to-session', (r) => !r.premintPoolSize)?.window.load.latencyMs;
  const withPool = find(rows, 'time-to-session', (r) => Boolean(r.premintPoolSize));
  const pooled = withPool?.window.load.latencyMs;
  if (without && pooled) {
    const share = pooled.p50 / without.p50;
    targets.push({
      target: 'pre-minted p50 time to session ≤ 60 % of without',
      ...(withPool.store ? { store: withPool.store } : {}),
      measured: `${(share * 100).toFixed(0)} % (${pooled.p50.toFixed(1)} vs ${without.p50.toFixed(1)} ms)`,
      status: judged(share <= 0.6),
    });
  }
  return targets;
}

function targetsTable(targets: Target[]): string {
  return [
    'Targets (issues #9 and #18)',
    table(
      ['target', 'store', 'measured', 'status'],
      targets.map((t) => [t.target, t.store ?? '', t.measured, t.status]),
    ),
    ...targets.filter((t) => t.note).map((t) => `  ${t.target} (${t.store}): ${t.note}`),
  ].join('\n');
}

const shares = (entries: ProfileEntry[], count: number) =>
  entries.slice(0, count).map((e) => `  ${e.share.toFixed(1).padStart(5)} %  ${e.name}`);

/** The throughput windows' profiles in full; the others are in the JSON and the profile files. */
function profilesText(profiles: ProfileSummary[] | undefined): string | undefined {
  if (!profiles?.length) return undefined;
  return [
    ...profiles
      .filter((p) => p.name.startsWith('throughput-'))
      .map((p) =>
        [
          `CPU profile of ${p.name} (main thread, ${thousands(p.totalMs)} ms busy in the window)`,
          'self time by package:',
          ...shares(p.byPackage, 10),
          "with the package anywhere on the stack (npm packages and the broker's own code):",
          ...shares(
            p.byPackageInclusive.filter((e) => !/^(node:|V8 |\(native\))/.test(e.name)),
            12,
          ),
          'self time by function:',
          ...shares(p.byFunction, 15),
        ].join('\n'),
      ),
    `Profiles: ${profiles.map((p) => p.path).join(', ')}`,
  ].join('\n\n');
}

export function formatReport(report: BenchReport): string {
  const m = report.machine;
  const head = [
    `avaturn-broker bench, ${report.startedAt}: node ${m.node}, ${m.cpus} CPUs (${m.cpuModel}), ${m.memoryGb} GB;`,
    `load average ${m.loadAverage.start.map((x) => x.toFixed(2)).join(' ')} at start, ${m.loadAverage.end.map((x) => x.toFixed(2)).join(' ')} at the end;`,
    `${report.options.durationS} s per window after ${report.options.warmupS} s warm-up; took ${Math.round(report.durationS)} s`,
  ].join('\n');
  const { ratePerS, upstreamLatencyMs } = settings.latency;
  const tts = settings.timeToSession;
  const rows = medianOverRounds(report.rows);
  const rounds = report.options.rounds > 1 ? `; medians of ${report.options.rounds} rounds` : '';
  return [
    head,
    throughputTable(rows),
    openLoopTable(
      rows,
      'latency',
      `Latency: ${upstreamLatencyMs} ms upstream per call, open loop at ${ratePerS} starts/s${rounds}`,
    ),
    openLoopTable(
      rows,
      'time-to-session',
      `Time to session: ${tts.upstreamLatencyMs} ms upstream per call, open loop at ${tts.ratePerS} starts/s, pool of ${tts.poolSize} per profile`,
    ),
    liveSessionsTable(rows),
    targetsTable(report.targets),
    profilesText(report.profiles),
    report.notes.join('\n'),
  ]
    .filter((part) => part !== undefined)
    .join('\n\n');
}

/** Writes bench/results/<timestamp>.json and bench/results/latest.json; returns the first path. */
export async function writeReport(report: BenchReport, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const json = `${JSON.stringify(report, null, 2)}\n`;
  const path = join(dir, `${report.startedAt.replace(/[:.]/g, '-')}.json`);
  await writeFile(path, json);
  await writeFile(join(dir, 'latest.json'), json);
  return path;
}
