import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Cluster } from 'ioredis';
import { keyTag, numberOfKeys, scriptArguments } from '../../src/store/redis/redis-keys';
import { ledgerKeys } from '../../src/store/redis/redis-budgets';
import { storeScripts } from '../../src/store/redis/redis-store';
import { startRedisCluster, type RedisCluster } from '../helpers/redis-cluster';

type ScriptName = keyof typeof storeScripts;
type Runner = (...args: (string | number)[]) => Promise<unknown>;

describe('the store scripts on a Redis Cluster', () => {
  let cluster: RedisCluster;
  let client: Cluster;
  const tag = keyTag('cluster-test:');

  beforeAll(async () => {
    cluster = await startRedisCluster();
    client = new Cluster(cluster.nodes);
    for (const [name, definition] of Object.entries(storeScripts)) {
      client.defineCommand(name, { numberOfKeys: numberOfKeys(definition), lua: definition.lua });
    }
  }, 30_000);
  afterAll(async () => {
    await client?.quit();
    await cluster?.close();
  });

  /** One script, its keys passed as redis-store.ts passes them (an ioredis Cluster routes by KEYS). */
  function run(name: ScriptName, ...args: (string | number)[]): Promise<unknown> {
    const method = (client as unknown as Record<string, Runner>)[name]!;
    return method.call(client, ...scriptArguments(storeScripts[name], tag, args));
  }

  it('run with every key in one slot: reserve, commit, evict, claim, retry, ack, finish, expire, idempotency', async () => {
    const now = Date.now();
    const record = (sessionId: string) => ({
      sessionId,
      userId: 'alice',
      profile: 'default',
      engine: 'cartesia',
      createdAt: now,
      expiresAt: now + 60_000,
    });
    const day = new Date(now).toISOString().slice(0, 10);
    const later = now + 86_400_000;
    // With a tenant and a daily budget of an hour, so that the budget's keys are exercised too.
    const budget = ['1', 900, day, day.slice(0, 7), later, later, later, later, 60, 0, 0, 0, 0];
    const reserve = async (id: string) => {
      const [outcome, victims, grant] = (await run(
        'reserve',
        now,
        'alice',
        id,
        1,
        0,
        'replace-oldest',
        60_000,
        0,
        'acme',
        0,
        ...budget,
      )) as [string, string, string];
      expect(JSON.parse(grant)).toMatchObject({ seconds: 900 });
      return [outcome, victims];
    };
    /** The day's ledger keys and the settlement's lapses (see finishEnd and expireSession). */
    const ledger = ledgerKeys(day).map((name) => tag + name);
    const lapses = [later, later, later];
    const commit = (id: string, sessionId: string, ...outbox: (string | number)[]) =>
      run(
        'commit',
        now,
        id,
        'alice',
        sessionId,
        JSON.stringify(record(sessionId)),
        now,
        now + 120_000,
        600_000,
        ...outbox,
      );

    expect(await reserve('r1')).toEqual(['ok', '[]']);
    const event = ['e1', 'event', 'E', '{"n":1}', now + 60_000, now];
    expect(await commit('r1', 's1', 100, ...event)).toBe(1);
    expect(await run('listUser', now, 'alice')).toEqual([JSON.stringify(record('s1'))]);
    expect(await run('listAll', now, 10)).toEqual([JSON.stringify(record('s1'))]);

    // The cap is 1: a second session replaces the first, whose termination is queued.
    const [outcome, victims] = (await reserve('r2')) as [string, string];
    expect(outcome).toBe('ok');
    expect(JSON.parse(victims)).toEqual([record('s1')]);
    const claimed = (await run('claim', now, 10, 30_000, 'terminate', 'event')) as string[];
    expect([claimed[0], claimed[6]]).toEqual(['terminate:s1', 'e1']);
    expect(await run('retry', 'e1', now)).toBe(1);
    expect(await run('ack', 'e1', now)).toBe(1);
    expect(await run('finishEnd', ...ledger, now, 's1', '1', now, '', ...lapses, 100)).toBe(
      JSON.stringify(record('s1')),
    );
    expect(await commit('r2', 's2', 100)).toBe(1);
    expect(await run('requestEnd', now, 's2', 'user', 'alice', now, '')).toBe(JSON.stringify(record('s2')));
    expect(await run('enqueue', now, 100, ...['e2', 'event', 'E', '{}', now + 60_000, now])).toBe(1);
    expect(await run('lapsedSessions', now + 200_000, 10)).toEqual([JSON.stringify(record('s2'))]);
    expect(await run('expireSession', ...ledger, now + 200_000, 's2', ...lapses, 100)).toBe(1);
    expect(await reserve('r3')).toEqual(['ok', '[]']);
    expect(await run('release', 'r3')).toBe(1);
    expect(await run('setLimits', 'user:alice', 'dailyMinutes', 5)).toBe('{"dailyMinutes":5}');
    expect(await run('listTenant', now, 'acme')).toEqual([]);

    const idem = `${tag}idem:alice:k1`;
    expect(await run('idempotencyBegin', idem, now, 'fp', 60_000, 'a1')).toEqual(['started']);
    expect(await run('idempotencyComplete', idem, now, '{}', 60_000)).toBe(1);
    expect(await run('idempotencyAbandon', idem, 'a1')).toBe(1);

    // Every key is on one node, under the tag.
    const perNode = await Promise.all(client.nodes('master').map((node) => node.keys('*')));
    const holding = perNode.filter((keys) => keys.length > 0);
    expect(holding).toHaveLength(1);
    expect(holding[0]!.filter((key) => !key.startsWith(tag))).toEqual([]);
  });
});
