/**
 * Minute budgets as the store keeps them. A **meter** counts one scope's seconds in one window
 * (`user:alice:d:2026-12-06`, `tenant:acme:m:2026-12`, `service::d:2026-12-06`): seconds used by
 * settled sessions, and seconds held by live sessions and pending creates. A create holds its
 * granted seconds in every meter that has a budget; its end replaces the hold with the seconds it
 * really ran, charged to the meters of the day and month it began in, once.
 */

export type BudgetScope = 'user' | 'tenant' | 'service';
export type BudgetWindow = 'day' | 'month';
export type LimitSubject = { scope: 'user' | 'tenant'; id: string };

/** Run-time overrides of one user's or tenant's figures; an absent field means "the default". */
export interface LimitOverrides {
  dailyMinutes?: number;
  monthlyMinutes?: number;
  maxSessions?: number;
}
export const LIMIT_FIELDS = ['dailyMinutes', 'monthlyMinutes', 'maxSessions'] as const;
/** A number sets a field, null clears it, an absent field is left as it is. */
export type LimitsPatch = { [K in keyof LimitOverrides]?: number | null };

/** The configured minutes per scope and window (0 = no budget). */
export interface BudgetDefaults {
  user: { day: number; month: number };
  tenant: { day: number; month: number };
  service: { day: number };
}

export interface BudgetPeriod {
  day: string;
  month: string;
  /** Epoch ms when the day and the month end. */
  dayEndsAt: number;
  monthEndsAt: number;
}

export interface BudgetRequest {
  period: BudgetPeriod;
  defaults: BudgetDefaults;
  /** The most a session may run (the profile's max_duration), seconds. */
  maxSeconds: number;
}

/** Avaturn's smallest max_duration: a budget with less left than this cannot start a session. */
export const minimumSessionSeconds = 60;

export interface MeterRef {
  scope: BudgetScope;
  /** The user or tenant; '' for the service. */
  id: string;
  window: BudgetWindow;
  /** The day (`YYYY-MM-DD`) or month (`YYYY-MM`). */
  label: string;
}

export const meterName = (m: MeterRef) => `${m.scope}:${m.id}:${m.window === 'day' ? 'd' : 'm'}:${m.label}`;

/**
 * When a meter may be forgotten (epoch ms): three days after its window ends in UTC, which covers
 * every zone's offset and leaves the report of a window's end time to read it.
 */
export function meterLapse(label: string): number {
  const [year, month, day] = label.split('-').map(Number) as [number, number, number?];
  const end = day === undefined ? Date.UTC(year, month, 1) : Date.UTC(year, month - 1, day + 1);
  return end + 3 * 86_400_000;
}

/** A meter with the budget that applies to it and when its window ends. */
export interface BudgetedMeter extends MeterRef {
  minutes: number;
  endsAt: number;
}

/** What a session holds and where its use is charged. */
export interface Charge {
  /** Names the hold in every meter (the reservation id). */
  holdId: string;
  /** Seconds held (the session's max_duration as granted). */
  seconds: number;
  /** The day and month the session began in: its use is charged there. */
  day: string;
  month: string;
  /** Names of the meters the hold is in (meterName). */
  held: string[];
}

export interface BudgetCrossing extends MeterRef {
  level: 'warning' | 'exhausted';
  minutes: number;
  /** Used plus held, seconds, just after the reservation. */
  usedSeconds: number;
  endsAt: number;
}

/** Share of a budget at which `budget.warning` is sent. */
export const warningShare = 0.8;

/**
 * The meters a session of this user (and tenant) is charged to: user, tenant and service, each for
 * the day and the month (the service's month is metered for the ledger, never budgeted).
 */
export function chargedMeters(
  userId: string,
  tenantId: string | undefined,
  day: string,
  month: string,
): MeterRef[] {
  const subjects: [BudgetScope, string][] = [
    ['user', userId],
    ['service', ''],
  ];
  if (tenantId !== undefined) subjects.push(['tenant', tenantId]);
  return subjects.flatMap(([scope, id]) => [
    { scope, id, window: 'day' as const, label: day },
    { scope, id, window: 'month' as const, label: month },
  ]);
}

/** The meters that have a budget for this create, with the overrides applied. */
export function budgetedMeters(
  req: { userId: string; tenantId?: string; budget: BudgetRequest },
  overrides: { user: LimitOverrides; tenant: LimitOverrides },
): BudgetedMeter[] {
  const { period, defaults } = req.budget;
  const meters: BudgetedMeter[] = [];
  const add = (scope: BudgetScope, id: string, window: BudgetWindow, minutes: number) => {
    if (minutes <= 0) return;
    const day = window === 'day';
    meters.push({
      scope,
      id,
      window,
      label: day ? period.day : period.month,
      minutes,
      endsAt: day ? period.dayEndsAt : period.monthEndsAt,
    });
  };
  add('user', req.userId, 'day', overrides.user.dailyMinutes ?? defaults.user.day);
  add('user', req.userId, 'month', overrides.user.monthlyMinutes ?? defaults.user.month);
  if (req.tenantId !== undefined) {
    add('tenant', req.tenantId, 'day', overrides.tenant.dailyMinutes ?? defaults.tenant.day);
    add('tenant', req.tenantId, 'month', overrides.tenant.monthlyMinutes ?? defaults.tenant.month);
  }
  add('service', '', 'day', defaults.service.day);
  return meters;
}

/**
 * The seconds a session ran when it ended at `endedAt`: from its creation to its end, or to its
 * expiresAt when nothing ended it sooner, rounded up. The settled figure everywhere.
 */
export function settledSeconds(record: { createdAt: number; expiresAt: number }, endedAt: number): number {
  return Math.max(0, Math.ceil((Math.min(endedAt, record.expiresAt) - record.createdAt) / 1000));
}

export type UsageGroup = 'user' | 'tenant' | 'profile' | 'day';
export interface UsageRow {
  key: string;
  sessions: number;
  seconds: number;
}

const byUse = (a: UsageRow, b: UsageRow) =>
  b.seconds - a.seconds || b.sessions - a.sessions || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/** The report's order, stable for its CSV: by day in date order, otherwise largest use first. */
export function sortUsage(rows: UsageRow[], groupBy: UsageGroup): UsageRow[] {
  return groupBy === 'day' ? rows.sort((a, b) => (a.key < b.key ? -1 : 1)) : rows.sort(byUse);
}
