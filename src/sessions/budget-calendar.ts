/**
 * Calendar days and months in one IANA time zone: the windows of the minute budgets and the days of
 * the usage ledger. A day is `YYYY-MM-DD`, a month `YYYY-MM`; each ends at the next local midnight
 * (a DST change makes a day 23 or 25 hours long, which is what the operator's calendar says).
 */
export interface Period {
  day: string;
  month: string;
  /** Epoch ms when the day starts and ends (the next local midnight). */
  dayStartsAt: number;
  dayEndsAt: number;
  /** Epoch ms of the first local midnight of the next month. */
  monthEndsAt: number;
}

export interface BudgetCalendar {
  readonly timeZone: string;
  /** The day and month `at` (epoch ms) falls in; cached until the day ends. */
  periodAt(at: number): Period;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** A date as `YYYY-MM-DD`, from the UTC fields of a Date that holds it. */
const dayOf = (d: Date) => `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;

export function createBudgetCalendar(timeZone: string): BudgetCalendar {
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });

  /** The local wall time at `at`, as a UTC Date with the same fields. */
  function wallClock(at: number): Date {
    const parts: Record<string, number> = {};
    for (const part of format.formatToParts(new Date(at))) parts[part.type] = Number(part.value);
    return new Date(
      Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!),
    );
  }

  /** Epoch ms of local midnight starting the date with these UTC fields (the first instant of it). */
  function midnightOf(year: number, monthIndex: number, date: number): number {
    const wall = Date.UTC(year, monthIndex, date);
    let at = wall;
    // Two corrections settle the zone's offset, also across a DST change near midnight.
    for (let i = 0; i < 3; i++) at = wall - (wallClock(at).getTime() - Math.floor(at / 1000) * 1000);
    // Where midnight does not exist (a DST jump at 00:00), the day starts at the first instant after.
    while (dayOf(wallClock(at)) !== dayOf(new Date(wall))) at += 15 * 60_000;
    return at;
  }

  let cached: Period | undefined;

  return {
    timeZone,
    periodAt(at) {
      if (cached !== undefined && at >= cached.dayStartsAt && at < cached.dayEndsAt) return cached;
      const wall = wallClock(at);
      const [y, m, d] = [wall.getUTCFullYear(), wall.getUTCMonth(), wall.getUTCDate()];
      cached = {
        day: dayOf(wall),
        month: `${pad(y, 4)}-${pad(m + 1)}`,
        dayStartsAt: midnightOf(y, m, d),
        dayEndsAt: midnightOf(y, m, d + 1),
        monthEndsAt: midnightOf(y, m + 1, 1),
      };
      return cached;
    },
  };
}

/** The days from `from` to `to` inclusive (`YYYY-MM-DD`), in order. */
export function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  for (let at = Date.parse(`${from}T00:00:00Z`); at <= Date.parse(`${to}T00:00:00Z`); at += 86_400_000)
    days.push(dayOf(new Date(at)));
  return days;
}
