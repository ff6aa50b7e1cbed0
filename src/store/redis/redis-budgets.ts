import type { Redis } from 'ioredis';
import {
  byUse,
  LIMIT_FIELDS,
  meterName,
  type LimitOverrides,
  type LimitsPatch,
  type LimitSubject,
  type MeterRef,
  type UsageGroup,
  type UsageRow,
} from '../budgets';

/**
 * The budget keys that plain commands read and write (the scripts hold and settle; see
 * redis-lua.ts): `limits:<scope>:<id>` (hash of overrides, kept until cleared),
 * `meter:<meter>` (hash: used, held seconds) and `usage:<day>:<group>` / `usage-n:<day>:<group>`
 * (hashes key -> seconds / sessions).
 */
export const budgetKeys = {
  limits: (s: LimitSubject) => `limits:${s.scope}:${s.id}`,
  meter: (m: MeterRef) => `meter:${meterName(m)}`,
  meterHolds: (m: MeterRef) => `meter-holds:${meterName(m)}`,
  usageSeconds: (day: string, group: UsageGroup) => `usage:${day}:${group}`,
  usageSessions: (day: string, group: UsageGroup) => `usage-n:${day}:${group}`,
};

export function parseOverrides(flat: Record<string, string>): LimitOverrides {
  const overrides: LimitOverrides = {};
  for (const field of LIMIT_FIELDS) if (flat[field] !== undefined) overrides[field] = Number(flat[field]);
  return overrides;
}

/** The ledger's plain-command side, over one client and the store's key function. */
export function redisBudgetReads(client: Redis, key: (name: string) => string) {
  return {
    async limitOverrides(subject: LimitSubject): Promise<LimitOverrides> {
      return parseOverrides(await client.hgetall(key(budgetKeys.limits(subject))));
    },

    async setLimitOverrides(subject: LimitSubject, patch: LimitsPatch): Promise<LimitOverrides> {
      const name = key(budgetKeys.limits(subject));
      const set = Object.entries(patch).filter(([, v]) => v !== null && v !== undefined) as [
        string,
        number,
      ][];
      const cleared = Object.entries(patch)
        .filter(([, v]) => v === null)
        .map(([field]) => field);
      const tx = client.multi();
      if (set.length > 0) tx.hset(name, Object.fromEntries(set));
      if (cleared.length > 0) tx.hdel(name, ...cleared);
      tx.hgetall(name);
      const replies = (await tx.exec()) ?? [];
      const last = replies[replies.length - 1];
      if (last === undefined || last[0] !== null) throw last?.[0] ?? new Error('Redis transaction aborted');
      return parseOverrides(last[1] as Record<string, string>);
    },

    async meterUse(meters: MeterRef[]): Promise<number[]> {
      if (meters.length === 0) return [];
      const pipeline = client.pipeline();
      for (const m of meters) pipeline.hmget(key(budgetKeys.meter(m)), 'used', 'held');
      const replies = (await pipeline.exec()) ?? [];
      return replies.map(([err, reply]) => {
        if (err) throw err;
        const [used, held] = reply as (string | null)[];
        return Number(used ?? 0) + Number(held ?? 0);
      });
    },

    async usage(days: string[], groupBy: UsageGroup): Promise<UsageRow[]> {
      const pipeline = client.pipeline();
      for (const day of days) {
        pipeline.hgetall(key(budgetKeys.usageSeconds(day, groupBy)));
        pipeline.hgetall(key(budgetKeys.usageSessions(day, groupBy)));
      }
      const replies = (await pipeline.exec()) ?? [];
      const totals = new Map<string, UsageRow>();
      for (let i = 0; i + 1 < replies.length; i += 2) {
        const [secondsErr, seconds] = replies[i]!;
        const [sessionsErr, sessions] = replies[i + 1]!;
        if (secondsErr || sessionsErr) throw secondsErr ?? sessionsErr;
        for (const [rowKey, value] of Object.entries(seconds as Record<string, string>)) {
          const row = totals.get(rowKey) ?? { key: rowKey, sessions: 0, seconds: 0 };
          row.seconds += Number(value);
          row.sessions += Number((sessions as Record<string, string>)[rowKey] ?? 0);
          totals.set(rowKey, row);
        }
      }
      const rows = [...totals.values()];
      return groupBy === 'day' ? rows.sort((a, b) => (a.key < b.key ? -1 : 1)) : rows.sort(byUse);
    },
  };
}
