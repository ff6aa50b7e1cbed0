import type { BudgetConfig, Config, Profile } from '../config/types';
import { AppError } from '../errors';
import type { Logger } from '../logger';
import {
  LIMIT_FIELDS,
  type BudgetCrossing,
  type BudgetDefaults,
  type BudgetRequest,
  type BudgetWindow,
  type LimitOverrides,
  type LimitsPatch,
  type LimitSubject,
  type MeterRef,
  type UsageGroup,
  type UsageRow,
} from '../store/budgets';
import type { BudgetLedger, JobQueue, SessionRegistry } from '../store/ports';
import { createBudgetCalendar, daysBetween } from './budget-calendar';
import { budgetEvent, type LifecycleEvents } from './lifecycle-events';

export interface BudgetsDeps {
  config: Config;
  store: BudgetLedger & JobQueue & Pick<SessionRegistry, 'listByUser'>;
  events: LifecycleEvents;
  logger: Logger;
  clock: () => number;
}

/** One user's or tenant's figures as they apply now, and where each comes from. */
export interface EffectiveLimits {
  dailyMinutes: number;
  monthlyMinutes: number;
  maxSessions: number;
  source: Record<(typeof LIMIT_FIELDS)[number], 'default' | 'override'>;
}

export interface BudgetStatus {
  scope: LimitSubject['scope'];
  window: BudgetWindow;
  minutes: number;
  usedSeconds: number;
  resetsAt: number;
}

export interface CallerLimits {
  live: number;
  max: number;
  budgets: BudgetStatus[];
}

/** The longest range /admin/usage answers, in days. */
export const maxUsageDays = 366;

export type Budgets = ReturnType<typeof createBudgets>;

/**
 * The minute budgets above the store: what a create asks the store to check (the store holds and
 * settles atomically), the budget events, the caller's and the operator's view of the limits, and
 * the usage report. Days and months are calendar ones in BUDGET_TIME_ZONE.
 */
export function createBudgets(deps: BudgetsDeps) {
  const { config, store, clock } = deps;
  const calendar = createBudgetCalendar(config.budgets.timeZone);
  const defaults = budgetDefaults(config.budgets);

  function defaultsOf(subject: LimitSubject): Omit<EffectiveLimits, 'source'> {
    const minutes = subject.scope === 'user' ? defaults.user : defaults.tenant;
    return {
      dailyMinutes: minutes.day,
      monthlyMinutes: minutes.month,
      maxSessions:
        subject.scope === 'user' ? config.limits.maxSessionsPerUser : config.limits.maxSessionsPerTenant,
    };
  }

  function effective(subject: LimitSubject, overrides: LimitOverrides): EffectiveLimits {
    const base = defaultsOf(subject);
    const source = {} as EffectiveLimits['source'];
    for (const field of LIMIT_FIELDS) source[field] = overrides[field] === undefined ? 'default' : 'override';
    return { ...base, ...overrides, source };
  }

  return {
    /** What the store checks and holds for a create of this profile starting at `at`. */
    request(profile: Profile, at: number): BudgetRequest {
      const period = calendar.periodAt(at);
      return {
        period: {
          day: period.day,
          month: period.month,
          dayEndsAt: period.dayEndsAt,
          monthEndsAt: period.monthEndsAt,
        },
        defaults,
        maxSeconds: profile.maxDurationSeconds,
      };
    },

    /** Logs and queues the budget events a reservation caused (each once per scope and window). */
    announce(crossings: BudgetCrossing[], userId: string, at: number): void {
      for (const crossing of crossings) {
        const event = budgetEvent(crossing, at);
        deps.events.log(event);
        const jobs = deps.events.outbox(event);
        if (jobs.length === 0) continue;
        void Promise.all(jobs.map((job) => store.enqueue(job))).catch((err: unknown) =>
          deps.logger.warn({ err, event: event.type, userId }, 'could not queue a budget event'),
        );
      }
    },

    /** The caller's own cap and budgets (never the service's or another subject's). */
    async callerLimits(userId: string, tenantId: string | undefined): Promise<CallerLimits> {
      const now = clock();
      const period = calendar.periodAt(now);
      const [userOverrides, tenantOverrides, live] = await Promise.all([
        store.limitOverrides({ scope: 'user', id: userId }),
        tenantId === undefined
          ? Promise.resolve({})
          : store.limitOverrides({ scope: 'tenant', id: tenantId }),
        store.listByUser(userId),
      ]);
      const user = effective({ scope: 'user', id: userId }, userOverrides);
      const wanted: (MeterRef & { scope: LimitSubject['scope']; minutes: number; resetsAt: number })[] = [];
      const add = (scope: LimitSubject['scope'], id: string, limits: EffectiveLimits) => {
        if (limits.dailyMinutes > 0)
          wanted.push({
            scope,
            id,
            window: 'day',
            label: period.day,
            minutes: limits.dailyMinutes,
            resetsAt: period.dayEndsAt,
          });
        if (limits.monthlyMinutes > 0)
          wanted.push({
            scope,
            id,
            window: 'month',
            label: period.month,
            minutes: limits.monthlyMinutes,
            resetsAt: period.monthEndsAt,
          });
      };
      add('user', userId, user);
      if (tenantId !== undefined)
        add('tenant', tenantId, effective({ scope: 'tenant', id: tenantId }, tenantOverrides));
      const used = await store.meterUse(wanted);
      return {
        live: live.filter((record) => record.expiresAt > now).length,
        max: user.maxSessions,
        budgets: wanted.map((m, i) => ({
          scope: m.scope,
          window: m.window,
          minutes: m.minutes,
          usedSeconds: Math.min(used[i] ?? 0, m.minutes * 60),
          resetsAt: m.resetsAt,
        })),
      };
    },

    async limitsOf(subject: LimitSubject): Promise<EffectiveLimits> {
      return effective(subject, await store.limitOverrides(subject));
    },

    async setLimits(subject: LimitSubject, patch: LimitsPatch): Promise<EffectiveLimits> {
      const overrides = await store.setLimitOverrides(subject, patch);
      deps.logger.info({ scope: subject.scope, subject: subject.id, patch }, 'limits overridden');
      return effective(subject, overrides);
    },

    /** Settled use per group over inclusive dates in the budget calendar. */
    async usage(from: string, to: string, groupBy: UsageGroup): Promise<UsageRow[]> {
      const days = daysBetween(from, to);
      if (days.length === 0) throw new AppError('invalid-request', '`from` must not be after `to`.');
      if (days.length > maxUsageDays)
        throw new AppError('invalid-request', `The range may span at most ${maxUsageDays} days.`);
      return store.usage(days, groupBy);
    },
  };
}

function budgetDefaults(budgets: BudgetConfig): BudgetDefaults {
  return {
    user: { day: budgets.userDailyMinutes, month: budgets.userMonthlyMinutes },
    tenant: { day: budgets.tenantDailyMinutes, month: budgets.tenantMonthlyMinutes },
    service: { day: budgets.serviceDailyMinutes },
  };
}
