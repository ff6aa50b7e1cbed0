import type { CallerLimits, EffectiveLimits } from '../sessions/budgets';
import type { UsageRow } from '../store/budgets';
import type { CallerLimitsBody, EffectiveLimitsBody } from './schemas-responses';

/** Minutes to two decimals, as the limits answers give them. */
const minutes = (seconds: number) => Math.round((seconds / 60) * 100) / 100;

export function callerLimitsBody(limits: CallerLimits): CallerLimitsBody {
  return {
    sessions: { live: limits.live, max: limits.max },
    budgets: limits.budgets.map((b) => {
      const used = minutes(b.usedSeconds);
      return {
        scope: b.scope,
        window: b.window,
        minutes: b.minutes,
        used_minutes: used,
        // So that used + left is the budget, whatever the rounding did.
        left_minutes: Math.max(0, Math.round((b.minutes - used) * 100) / 100),
        resets_at: new Date(b.resetsAt).toISOString(),
      };
    }),
  };
}

export function effectiveLimitsBody(limits: EffectiveLimits): EffectiveLimitsBody {
  return {
    daily_minutes: limits.dailyMinutes,
    monthly_minutes: limits.monthlyMinutes,
    max_sessions: limits.maxSessions,
    source: {
      daily_minutes: limits.source.dailyMinutes,
      monthly_minutes: limits.source.monthlyMinutes,
      max_sessions: limits.source.maxSessions,
    },
  };
}

/** One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break. */
function csvField(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The usage rows as RFC 4180 CSV with a header row, CRLF line ends. */
export function usageCsv(rows: UsageRow[]): string {
  const lines = [['key', 'sessions', 'seconds'], ...rows.map((r) => [r.key, r.sessions, r.seconds])];
  return lines.map((line) => line.map(csvField).join(',')).join('\r\n') + '\r\n';
}
