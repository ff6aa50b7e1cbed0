import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { keyTag, script, storeKeys } from '../../src/store/redis/redis-keys';
import { dueKey, keepFor } from '../../src/store/redis/redis-lua';
import { createRedisStore, storeScripts } from '../../src/store/redis/redis-store';
import { startRedisServer, type RedisServer } from '../helpers/redis-server';

/** The first argument of each `redis.call(...)` after the command's name: the key it touches. */
function keyArguments(lua: string): string[] {
  const found: string[] = [];
  for (const match of lua.matchAll(/redis\.p?call\(/g)) {
    const rest = lua.slice(match.index + match[0].length);
    const command = /^\s*'[A-Z]+'\s*,\s*/.exec(rest);
    if (!command) throw new Error(`a redis.call without a literal command: ${rest.slice(0, 60)}`);
    let depth = 0;
    let end = command[0].length;
    for (; end < rest.length; end++) {
      const c = rest[end];
      if (c === '(' || c === '{') depth++;
      else if ((c === ')' || c === '}') && depth > 0) depth--;
      else if ((c === ',' || c === ')') && depth === 0) break;
    }
    found.push(rest.slice(command[0].length, end).trim());
  }
  return found;
}

/** A key named in KEYS[] (K.<name> is KEYS[i], see the prelude), or the due set of a topic. */
const declaredKey = /^(K\.\w+|KEYS\[\d+\]|dueKey\([\w.]+\))$/;

describe('every Redis script', () => {
  const scripts = Object.entries(storeScripts);

  it.each(scripts)('%s passes every key it touches in KEYS[] and builds none', (_, definition) => {
    // keepFor's own calls take the keys it is given: those must be a list of declared keys.
    const lua = definition.lua.replaceAll(keepFor, '');
    for (const [, keys] of lua.matchAll(/keepFor\((\{[^}]*\})/g)) {
      expect(keys!.replace(/\s+/g, ' ')).toMatch(/^\{K\.\w+(, K\.\w+)*\}$/);
    }
    expect(lua.split('keepFor(').length).toBe(lua.split('keepFor({').length);
    const keys = keyArguments(lua);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.filter((key) => !declaredKey.test(key))).toEqual([]);
    // Nothing is glued onto a key name, and the prefix is not an argument any more.
    expect(definition.lua).not.toMatch(/(\bK\.\w+|KEYS\[\d+\])\s*\.\.|\.\.\s*(\bK\.\w+|KEYS\[)/);
    expect(definition.lua).not.toMatch(/\bP\s*\.\./);
    // KEYS[i] outside the prelude only for the caller's own keys (an idempotency key).
    const body = definition.lua.replace(/^local K = \{[^\n]*\n/, '');
    for (const [, index] of body.matchAll(/KEYS\[(\d+)\]/g)) {
      expect(Number(index)).toBeLessThanOrEqual(definition.callerKeys);
    }
    for (const name of definition.keys) expect(Object.keys(storeKeys)).toContain(name);
  });

  it('keeps the TTLs of the keys it is given, and only of those', () => {
    expect(keyArguments(keepFor)).toEqual(['key', 'key']);
    expect(keepFor).toContain('for _, key in ipairs(keys) do');
  });

  it('picks a due set among declared keys only', () => {
    const returns = [...dueKey.matchAll(/return\s+(\S+)/g)].map((match) => match[1]!.trim());
    expect(returns).toEqual(['K.dueEvent', 'K.due']);
  });

  it('cannot mention a key that is not one of the store keys', () => {
    expect(() => script(`return redis.call('GET', K.nowhere)`)).toThrow('unknown key K.nowhere');
  });

  it('refuses a prefix that would break the one hash tag', () => {
    expect(() => keyTag('a{b}')).toThrow('must not contain { or }');
    expect(() => keyTag('')).toThrow('must not be empty');
    expect(keyTag('avaturn-broker:')).toBe('{avaturn-broker:}');
  });
});

describe('a Redis store at work', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(() => server.close());

  it('writes every key under its one hash tag', async () => {
    const store = createRedisStore({ url: server.url, keyPrefix: 'tagged:' });
    const now = Date.now();
    const record = {
      sessionId: 's1',
      userId: 'alice',
      profile: 'default',
      engine: 'cartesia' as const,
      createdAt: now,
      expiresAt: now + 60_000,
    };
    const reserve = { userId: 'alice', perUserCap: 1, globalCap: 0, reservationTtlMs: 60_000 };
    const common = { ...reserve, policy: 'replace-oldest' as const, evictionGraceMs: 0 };
    await store.reserve({ ...common, reservationId: 'r1' });
    await store.commit('r1', record, [
      { id: 'e1', topic: 'event', partition: 'E', payload: {}, dueAt: now, dropAt: now + 60_000 },
    ]);
    await store.reserve({ ...common, reservationId: 'r2' });
    await store.idempotencyBegin('alice', 'k1', 'fp', 60_000, 'a1');
    const limiter = store.rateLimitStore('ip:');
    await limiter?.init?.({ windowMs: 60_000 } as never);
    await limiter?.increment('203.0.113.7');
    await store.ping();
    await store.claimJobs(10, 30_000);
    await store.close();

    const keys = await server.admin.keys('*');
    expect(keys.length).toBeGreaterThan(10);
    expect(keys.filter((key) => !key.startsWith('{tagged:}'))).toEqual([]);
  });
});
