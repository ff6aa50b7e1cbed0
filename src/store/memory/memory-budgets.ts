import { MinHeap } from './min-heap';
import {
  budgetedMeters,
  chargedMeters,
  meterLapse,
  meterName,
  minimumSessionSeconds,
  settledSeconds,
  sortUsage,
  warningShare,
  type BudgetCrossing,
  type BudgetRequest,
  type LimitOverrides,
  type LimitsPatch,
  type LimitSubject,
  type MeterRef,
  type UsageGroup,
  type UsageRow,
} from '../budgets';
import type { Grant, ReserveResult, SessionRecord } from '../ports';

interface Meter {
  used: number;
  held: number;
  warned: boolean;
  exhausted: boolean;
}

interface Hold {
  seconds: number;
  held: string[];
  lapse: number;
}

/** Rows (one key of one dimension on one day) the in-process ledger keeps at most; oldest days go first. */
export const memoryLedgerMaxRows = 200_000;
/** How long a settled marker outlives its session's end. */
const settledKeepMs = 2 * 86_400_000;

type Ledger = Map<string, Map<UsageGroup, Map<string, { sessions: number; seconds: number }>>>;

/**
 * The in-process store's budgets: meters, holds, settled markers, overrides and the usage ledger.
 * Every method runs to completion without awaiting, so the memory store calls it inside its own
 * atomic steps.
 */
export function createMemoryBudgets(retentionDays: number) {
  const meters = new Map<string, Meter>();
  const meterLapses = new MinHeap<string>();
  const holds = new Map<string, Hold>();
  const holdLapses = new MinHeap<string>();
  const settled = new Set<string>();
  const settledLapses = new MinHeap<string>();
  const overrides = new Map<string, LimitOverrides>();
  const ledger: Ledger = new Map();
  let ledgerRows = 0;

  const subjectKey = (s: LimitSubject) => `${s.scope}:${s.id}`;
  const overridesOf = (s: LimitSubject): LimitOverrides => overrides.get(subjectKey(s)) ?? {};

  function meter(ref: MeterRef): Meter {
    const name = meterName(ref);
    let found = meters.get(name);
    if (found === undefined) {
      found = { used: 0, held: 0, warned: false, exhausted: false };
      meters.set(name, found);
      meterLapses.push(meterLapse(ref.label), name);
    }
    return found;
  }

  function releaseHold(holdId: string): void {
    const hold = holds.get(holdId);
    if (hold === undefined) return;
    holds.delete(holdId);
    for (const name of hold.held) {
      const m = meters.get(name);
      if (m !== undefined) m.held = Math.max(0, m.held - hold.seconds);
    }
  }

  function expire(at: number): void {
    for (let e = holdLapses.popDue(at); e; e = holdLapses.popDue(at))
      if (holds.get(e.key)?.lapse === e.at) releaseHold(e.key);
    for (let e = settledLapses.popDue(at); e; e = settledLapses.popDue(at)) settled.delete(e.key);
    for (let e = meterLapses.popDue(at); e; e = meterLapses.popDue(at)) meters.delete(e.key);
  }

  function addToLedger(day: string, group: UsageGroup, key: string, seconds: number): void {
    let byGroup = ledger.get(day);
    if (byGroup === undefined) {
      byGroup = new Map();
      ledger.set(day, byGroup);
    }
    let rows = byGroup.get(group);
    if (rows === undefined) {
      rows = new Map();
      byGroup.set(group, rows);
    }
    const row = rows.get(key);
    if (row === undefined) {
      rows.set(key, { sessions: 1, seconds });
      ledgerRows++;
    } else {
      row.sessions++;
      row.seconds += seconds;
    }
  }

  /** Drops days past the retention, and the oldest days while the ledger is over its row bound. */
  function pruneLedger(today: string): void {
    const oldest = new Date(Date.parse(`${today}T00:00:00Z`) - retentionDays * 86_400_000)
      .toISOString()
      .slice(0, 10);
    for (const day of [...ledger.keys()].sort()) {
      if (day >= oldest && ledgerRows <= memoryLedgerMaxRows) break;
      for (const rows of ledger.get(day)!.values()) ledgerRows -= rows.size;
      ledger.delete(day);
    }
  }

  return {
    expire,
    overridesOf,

    /**
     * Checks the budgets and holds the grant; `victims` are the user's sessions this create ends,
     * whose unused holds count as free. Returns undefined for "fits" without a budget request.
     */
    reserve(
      req: { reservationId: string; userId: string; tenantId?: string; budget: BudgetRequest },
      victims: SessionRecord[],
      at: number,
      lapse: number,
    ): Grant | Extract<ReserveResult, { reason: 'budget' }> {
      const { budget } = req;
      const applying = budgetedMeters(req, {
        user: overridesOf({ scope: 'user', id: req.userId }),
        tenant: req.tenantId === undefined ? {} : overridesOf({ scope: 'tenant', id: req.tenantId }),
      });
      let left = budget.maxSeconds;
      let short: (typeof applying)[number] | undefined;
      for (const m of applying) {
        const name = meterName(m);
        const found = meters.get(name);
        const freed = victims.reduce((sum, victim) => {
          const charge = victim.charge;
          if (charge === undefined || !charge.held.includes(name)) return sum;
          return sum + Math.max(0, charge.seconds - settledSeconds(victim, at));
        }, 0);
        const meterLeft = m.minutes * 60 - (found?.used ?? 0) - (found?.held ?? 0) + freed;
        if (meterLeft < minimumSessionSeconds) {
          if (short === undefined || m.endsAt > short.endsAt) short = m;
        }
        left = Math.min(left, meterLeft);
      }
      if (short !== undefined)
        return {
          ok: false,
          reason: 'budget',
          scope: short.scope,
          window: short.window,
          retryAt: short.endsAt,
        };

      const seconds = Math.floor(left);
      const held = applying.map(meterName);
      holds.set(req.reservationId, { seconds, held, lapse });
      holdLapses.push(lapse, req.reservationId);
      const crossings: BudgetCrossing[] = [];
      for (const m of applying) {
        const found = meter(m);
        found.held += seconds;
        const use = found.used + found.held;
        const budgetSeconds = m.minutes * 60;
        const cross = (level: BudgetCrossing['level']) =>
          crossings.push({ ...pickRef(m), level, minutes: m.minutes, usedSeconds: use, endsAt: m.endsAt });
        if (!found.warned && use >= warningShare * budgetSeconds) {
          found.warned = true;
          cross('warning');
        }
        if (!found.exhausted && use >= budgetSeconds) {
          found.exhausted = true;
          cross('exhausted');
        }
      }
      return {
        seconds,
        charge: {
          holdId: req.reservationId,
          seconds,
          day: budget.period.day,
          month: budget.period.month,
          held,
        },
        crossings,
      };
    },

    releaseHold,

    /** A committed session keeps its hold until its record lapses. */
    keepHold(holdId: string, lapse: number): void {
      const hold = holds.get(holdId);
      if (hold === undefined) return;
      hold.lapse = lapse;
      holdLapses.push(lapse, holdId);
    },

    /** Replaces the session's hold with what it ran; once per session. */
    settle(record: SessionRecord, endedAt: number, at: number): void {
      const { charge } = record;
      if (charge === undefined || settled.has(record.sessionId)) return;
      settled.add(record.sessionId);
      settledLapses.push(at + settledKeepMs, record.sessionId);
      releaseHold(charge.holdId);
      const seconds = settledSeconds(record, endedAt);
      for (const m of chargedMeters(record.userId, record.tenantId, charge.day, charge.month))
        meter(m).used += seconds;
      addToLedger(charge.day, 'user', record.userId, seconds);
      if (record.tenantId !== undefined) addToLedger(charge.day, 'tenant', record.tenantId, seconds);
      addToLedger(charge.day, 'profile', record.profile, seconds);
      addToLedger(charge.day, 'day', charge.day, seconds);
      pruneLedger(charge.day);
    },

    setOverrides(subject: LimitSubject, patch: LimitsPatch): LimitOverrides {
      const next: LimitOverrides = { ...overridesOf(subject) };
      for (const [field, value] of Object.entries(patch) as [keyof LimitOverrides, number | null][]) {
        if (value === null) delete next[field];
        else next[field] = value;
      }
      if (Object.keys(next).length === 0) overrides.delete(subjectKey(subject));
      else overrides.set(subjectKey(subject), next);
      return { ...next };
    },

    meterUse(refs: MeterRef[]): number[] {
      return refs.map((ref) => {
        const found = meters.get(meterName(ref));
        return (found?.used ?? 0) + (found?.held ?? 0);
      });
    },

    usage(days: string[], groupBy: UsageGroup): UsageRow[] {
      const totals = new Map<string, UsageRow>();
      for (const day of days) {
        for (const [key, row] of ledger.get(day)?.get(groupBy) ?? []) {
          const total = totals.get(key) ?? { key, sessions: 0, seconds: 0 };
          total.sessions += row.sessions;
          total.seconds += row.seconds;
          totals.set(key, total);
        }
      }
      const rows = [...totals.values()];
      return sortUsage(rows, groupBy);
    },
  };
}

const pickRef = (m: MeterRef): MeterRef => ({ scope: m.scope, id: m.id, window: m.window, label: m.label });
