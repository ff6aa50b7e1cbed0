import { redisKeyPrefixProblem } from '../../config/env-parsers';

/**
 * The store's key names. Every key carries one hash tag, `{<prefix>}`, so that all of them hash to
 * one slot: every script's keys then live on one node, standalone, Sentinel or Cluster alike.
 */

/** The fixed keys, by the name scripts use for them (`K.<name>` in Lua), and their suffix. */
export const storeKeys = {
  sessions: 'sessions',
  byCreated: 'by-created',
  records: 'records',
  owners: 'owners',
  userSessions: 'user-sessions',
  reservations: 'reservations',
  reservationOwners: 'reservation-owners',
  reservationVictims: 'reservation-victims',
  reservationCommits: 'reservation-commits',
  pending: 'pending',
  userPending: 'user-pending',
  due: 'q:due',
  dueEvent: 'q:due:event',
  fifo: 'q:fifo',
  seq: 'q:seq',
  jobs: 'q:jobs',
  payloads: 'q:payloads',
  attempts: 'q:attempts',
  depth: 'q:depth',
  events: 'q:events',
  eventLapse: 'q:event-lapse',
  dropped: 'q:dropped',
  probe: 'probe',
  epoch: 'epoch',
  tenantSessions: 'tenant-sessions',
  tenantPending: 'tenant-pending',
  reservationTenants: 'reservation-tenants',
  reservationGrants: 'reservation-grants',
  limits: 'limits',
  meterUsed: 'meter-used',
  meterHeld: 'meter-held',
  meterFlags: 'meter-flags',
  meterLapse: 'meter-lapse',
  holds: 'holds',
  holdData: 'hold-data',
  settled: 'settled',
} as const;

export type StoreKeyName = keyof typeof storeKeys;

/** The hash tag every key starts with: the prefix in braces. */
export function keyTag(prefix: string): string {
  const problem = redisKeyPrefixProblem(prefix);
  if (problem !== undefined) throw new Error(`Redis key prefix ${problem}`);
  return `{${prefix}}`;
}

export interface ScriptDefinition {
  /** The fixed keys the script touches, in KEYS[] order after the caller's keys. */
  keys: StoreKeyName[];
  /** Keys the caller names on each call (an idempotency key), first in KEYS[]. */
  callerKeys: number;
  /** The script, after a prelude that names its fixed keys: `K.sessions` is the `sessions` key. */
  lua: string;
}

/** How many of a call's arguments are keys (ioredis's defineCommand). */
export function numberOfKeys(definition: ScriptDefinition): number {
  return definition.callerKeys + definition.keys.length;
}

/**
 * A call's arguments: the caller's keys, the script's fixed keys under `tag`, then its ARGV.
 * `args` starts with the caller's keys.
 */
export function scriptArguments(
  definition: ScriptDefinition,
  tag: string,
  args: (string | number)[],
): (string | number)[] {
  const fixed = definition.keys.map((name) => tag + storeKeys[name]);
  return [...args.slice(0, definition.callerKeys), ...fixed, ...args.slice(definition.callerKeys)];
}

/**
 * A script whose fixed keys are the `K.<name>` it mentions (its helpers' included): all are passed
 * in KEYS[], so no script builds a key name, and none can touch a key it did not declare.
 */
export function script(body: string, callerKeys = 0): ScriptDefinition {
  const keys = [...new Set([...body.matchAll(/\bK\.(\w+)/g)].map((match) => match[1]!))].sort();
  for (const name of keys) {
    if (!(name in storeKeys)) throw new Error(`Redis script mentions an unknown key K.${name}`);
  }
  const fields = keys.map((name, i) => `${name} = KEYS[${callerKeys + i + 1}]`);
  const prelude = keys.length === 0 ? '' : `local K = { ${fields.join(', ')} }\n`;
  return { keys: keys as StoreKeyName[], callerKeys, lua: prelude + body };
}
