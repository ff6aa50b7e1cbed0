import { BrokerError, formatSeconds, type BrokerLimits } from '../../packages/client/src/index.js';

const tenths = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

/** Rounded down, so the page never promises a tenth of a minute that is not there. */
function minutes(value: number): string {
  return tenths.format(Math.floor(value * 10) / 10);
}

/**
 * "3.5 of 5 minutes left today", from the tightest daily budget that applies; undefined when the
 * broker sets none, so the page shows nothing.
 */
export function minutesLeftToday(limits: BrokerLimits): string | undefined {
  const today = limits.budgets.filter((budget) => budget.window === 'day');
  if (today.length === 0) return undefined;
  const tightest = today.reduce((a, b) => (b.leftMinutes < a.leftMinutes ? b : a));
  const whose = tightest.scope === 'tenant' ? ' for your organisation' : '';
  return `${minutes(tightest.leftMinutes)} of ${minutes(tightest.minutes)} minutes left today${whose}.`;
}

const who: Record<NonNullable<BrokerError['scope']>, string> = {
  user: 'You have',
  tenant: 'Your organisation has',
  service: 'Everyone together has',
};

const clockTime = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
  timeZoneName: 'short',
});
const dayAndTime = new Intl.DateTimeFormat(undefined, {
  day: 'numeric',
  month: 'long',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
  timeZoneName: 'short',
});

/**
 * `budget-exhausted` as a sentence that says when it is over: "You have used today's minutes;
 * they reset at 00:00 UTC (in 3 h 12 min)." The broker's Retry-After points at the reset.
 */
export function budgetExhaustedSentence(err: BrokerError, now = Date.now()): string {
  const used = `${who[err.scope ?? 'user']} used ${err.window === 'month' ? 'this month’s' : 'today’s'} minutes`;
  if (err.retryAfterSeconds === undefined) return `${used}.`;
  const resetsAt = new Date(now + err.retryAfterSeconds * 1000);
  const at =
    err.retryAfterSeconds < 24 * 3600
      ? `at ${clockTime.format(resetsAt)}`
      : `on ${dayAndTime.format(resetsAt)}`;
  return `${used}; they reset ${at} (in ${formatSeconds(err.retryAfterSeconds)}).`;
}
