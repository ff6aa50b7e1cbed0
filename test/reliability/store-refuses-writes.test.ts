import { buildTestApp, type TestApp } from '../helpers/build-test-app';
import { startRedisServer, type RedisServer } from '../helpers/redis-server';
import { sleep } from '../helpers/waiting';

/** Polls /readyz every 100 ms until it answers `status`; how long that took, or Infinity past `withinMs`. */
async function msUntilReadiness(t: TestApp, status: number, withinMs: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started <= withinMs) {
    if ((await t.http.get('/readyz')).status === status) return Date.now() - started;
    await sleep(100);
  }
  return Number.POSITIVE_INFINITY;
}

describe('readiness when Redis refuses writes (a server of the test’s own)', () => {
  let redis: RedisServer;
  let t: TestApp;
  beforeAll(async () => {
    redis = await startRedisServer(['--maxmemory-policy', 'noeviction']);
    t = await buildTestApp({ env: { REDIS_URL: redis.url } });
  });
  afterAll(async () => {
    await t.close();
    await redis.close();
  });

  it('answers 503 within 5 s once Redis is out of memory under noeviction, and 200 within 5 s of memory freed, by itself', async () => {
    expect((await t.http.get('/readyz')).status).toBe(200);
    await redis.admin.config('SET', 'maxmemory', '1');
    // PING still answers: only a write shows the store is of no use.
    expect(await redis.admin.ping()).toBe('PONG');
    expect(await msUntilReadiness(t, 503, 5_000)).toBeLessThan(5_000);
    await redis.admin.config('SET', 'maxmemory', '0');
    expect(await msUntilReadiness(t, 200, 5_000)).toBeLessThan(5_000);
  });

  it('answers 503 within 5 s once Redis is made a read-only replica, and 200 within 5 s of it being a primary again', async () => {
    expect((await t.http.get('/readyz')).status).toBe(200);
    // A primary that does not exist: the server stays a read-only replica holding its data.
    await redis.admin.call('REPLICAOF', '127.0.0.1', '1');
    expect(await msUntilReadiness(t, 503, 5_000)).toBeLessThan(5_000);
    await redis.admin.call('REPLICAOF', 'NO', 'ONE');
    expect(await msUntilReadiness(t, 200, 5_000)).toBeLessThan(5_000);
  });
});

describe('the maxmemory-policy check at start', () => {
  it.each([
    ['allkeys-lru', 1],
    ['volatile-ttl', 1],
    ['noeviction', 0],
  ])('with %s, warns %d time(s) that keys may be evicted', async (policy, warnings) => {
    const redis = await startRedisServer(['--maxmemory-policy', policy]);
    const t = await buildTestApp({ env: { REDIS_URL: redis.url } });
    try {
      await sleep(300);
      const lines = t.logs
        .lines()
        .filter((line) => /maxmemory-policy is not noeviction/.test(String(line.msg)));
      expect(lines.map((line) => [line.level, line.maxmemoryPolicy])).toEqual(
        Array.from({ length: warnings }, () => ['warn', policy]),
      );
    } finally {
      await t.close();
      await redis.close();
    }
  });
});
