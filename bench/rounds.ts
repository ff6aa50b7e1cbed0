import type { Row, Window } from './scenarios';

/*
 * BENCH_ROUNDS: the latency scenario measures every system several times, in turns. On a shared
 * machine one window's p99 moves by tens of milliseconds with whatever else runs; the median over
 * rounds, and the median of the differences taken within each round, move far less.
 */

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** One window whose every figure the tables show is the median of those of `windows`. */
function medianWindow(windows: Window[]): Window {
  const of = (pick: (w: Window) => number | null | undefined): number =>
    median(windows.map(pick).filter((x): x is number => typeof x === 'number'));
  const first = structuredClone(windows[0]!);
  const { latencyMs, sendLagMs } = first.load;
  return {
    ...first,
    load: {
      ...first.load,
      completedPerS: of((w) => w.load.completedPerS),
      errors: windows.reduce((sum, w) => sum + w.load.errors, 0),
      ...(latencyMs && {
        latencyMs: {
          ...latencyMs,
          p50: of((w) => w.load.latencyMs?.p50),
          p90: of((w) => w.load.latencyMs?.p90),
          p99: of((w) => w.load.latencyMs?.p99),
          max: of((w) => w.load.latencyMs?.max),
        },
      }),
      ...(sendLagMs && { sendLagMs: { ...sendLagMs, p99: of((w) => w.load.sendLagMs?.p99) } }),
    },
    cpuMsPerSession: of((w) => w.cpuMsPerSession),
    eventLoopDelayMs: { p99: of((w) => w.eventLoopDelayMs.p99), max: of((w) => w.eventLoopDelayMs.max) },
    gcPausesMs: { total: of((w) => w.gcPausesMs.total), max: of((w) => w.gcPausesMs.max) },
  };
}

/** The rows with each system's rounds folded into one row of medians (rows without rounds as they are). */
export function medianOverRounds(rows: Row[]): Row[] {
  const folded: Row[] = [];
  const rounds = new Map<string, Row[]>();
  for (const row of rows) {
    if (row.round === undefined) {
      folded.push(row);
      continue;
    }
    const key = `${row.scenario}\u0000${row.system}`;
    const seen = rounds.get(key);
    if (seen) seen.push(row);
    else {
      rounds.set(key, [row]);
      folded.push(row);
    }
  }
  return folded.map((row) => {
    const all = row.round === undefined ? undefined : rounds.get(`${row.scenario}\u0000${row.system}`);
    if (all === undefined) return row;
    const { round: _round, ...rest } = row;
    return { ...rest, window: medianWindow(all.map((r) => r.window)) };
  });
}

/**
 * The median, over rounds, of `system`'s p99 minus `baseline`'s p99 in the same round; undefined
 * unless both were measured in at least one common round.
 */
export function pairedP99Excess(
  rows: Row[],
  system: (row: Row) => boolean,
  baseline: (row: Row) => boolean,
): { ms: number; rounds: number } | undefined {
  const p99 = (row: Row | undefined) => row?.window.load.latencyMs?.p99;
  const latency = rows.filter((row) => row.scenario === 'latency');
  const differences = latency.filter(system).flatMap((row) => {
    const ours = p99(row);
    const theirs = p99(latency.find((other) => other.round === row.round && baseline(other)));
    return ours === undefined || theirs === undefined ? [] : [ours - theirs];
  });
  return differences.length === 0 ? undefined : { ms: median(differences), rounds: differences.length };
}
