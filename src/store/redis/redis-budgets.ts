import type { Cluster, Redis } from 'ioredis';
import {
  LIMIT_FIELDS,
  meterName,
  sortUsage,
  type LimitOverrides,
  type LimitSubject,
  type MeterRef,
  type UsageGroup,
  type UsageRow,
} from '../budgets';
import type { storeKeys } from './redis-keys';

const USAGE_GROUPS: UsageGroup[] = ['user', 'tenant', 'profile', 'day'];

/**
 * A day's ledger keys (without the tag), in the order the settlement takes them: seconds then
 * sessions, per user, tenant, profile and the day itself (see settle in redis-budget-lua.ts).
 */
export function ledgerKeys(day: string): string[] {
  return USAGE_GROUPS.flatMap((group) => [`usage:${day}:${group}`, `usage-n:${day}:${group}`]);
}

export function parseOverrides(raw: Record<string, unknown>): LimitOverrides {
  const overrides: LimitOverrides = {};
  for (const field of LIMIT_FIELDS) {
    const value = raw[field];
    if (value !== undefined && value !== null && value !== '') overrides[field] = Number(value);
  }
  return overrides;
}

/**
 * The ledger's reads: plain commands on the keys the scripts write (redis-budget-lua.ts), over one
 * client. `key` names a fixed key, `tagged` tags any other name.
 */
export function redisBudgetReads(
  client: Redis | Cluster,
  key: (name: keyof typeof storeKeys) => string,
  tagged: (name: string) => string,
) {
  return {
    async limitOverrides(subject: LimitSubject): Promise<LimitOverrides> {
      const json = await client.hget(key('limits'), `${subject.scope}:${subject.id}`);
      return json === null ? {} : parseOverrides(JSON.parse(json) as Record<string, unknown>);
    },

    async meterUse(meters: MeterRef[]): Promise<number[]> {
      if (meters.length === 0) return [];
      const names = meters.map(meterName);
      const [used, held] = await Promise.all([
        client.hmget(key('meterUsed'), ...names),
        client.hmget(key('meterHeld'), ...names),
      ]);
      return names.map((_, i) => Number(used[i] ?? 0) + Number(held[i] ?? 0));
    },

    async usage(days: string[], groupBy: UsageGroup): Promise<UsageRow[]> {
      const pipeline = client.pipeline();
      for (const day of days) {
        pipeline.hgetall(tagged(`usage:${day}:${groupBy}`));
        pipeline.hgetall(tagged(`usage-n:${day}:${groupBy}`));
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
      return sortUsage(rows, groupBy);
    },
  };
}
