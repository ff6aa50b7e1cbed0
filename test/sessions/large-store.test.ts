import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createMemoryStore } from '../../src/store/memory/memory-store';
import { createRedisStore } from '../../src/store/redis/redis-store';
import { retentionSlackMs, type SessionRecord, type SessionStore } from '../../src/store/ports';
import { redisUrl } from '../helpers/world';

const live = 100_000;
const minute = 60_000;

/**
 * The store's answers do not change with its size: the same decisions with 100,000 live sessions
 * as with a handful (correctness only; how the cost grows is the benchmark's business).
 */
describe.each(['memory', 'redis'] as const)('a %s store holding 100,000 live sessions', (kind) => {
  let time = 1_800_000_000_000;
  const clock = () => time;
  let store: SessionStore;
  let dispose: () => Promise<void>;
  let reservations = 0;
  const reserve = (
    userId: string,
    policy: 'reject' | 'replace-oldest' = 'reject',
    globalCap = 0,
    reservationId = `r${++reservations}`,
  ) =>
    store.reserve({
      reservationId,
      userId,
      perUserCap: 1,
      globalCap,
      policy,
      reservationTtlMs: 30_000,
      evictionGraceMs: 10_000,
    });
  const record = (i: number): SessionRecord => ({
    sessionId: `s${i}`,
    userId: `u${i}`,
    profile: 'default',
    engine: 'cartesia',
    createdAt: time - live + i,
    expiresAt: time - live + i + 15 * minute,
  });

  beforeAll(async () => {
    if (kind === 'memory') {
      store = createMemoryStore({ clock });
      dispose = () => store.close();
    } else {
      const keyPrefix = `test-large:${randomUUID()}:`;
      store = createRedisStore({ url: redisUrl, keyPrefix, clock });
      dispose = async () => {
        await store.close();
        const admin = new Redis(redisUrl);
        for (let cursor = '0'; ;) {
          const [next, keys] = await admin.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 10_000);
          if (keys.length > 0) await admin.unlink(...keys);
          if ((cursor = next) === '0') break;
        }
        await admin.quit();
      };
    }
    // Seeded through the store's own interface, many calls in flight at once, but few enough that
    // none waits out the store's one-second command timeout on a machine busy with other suites.
    const inFlight = 250;
    for (let start = 0; start < live; start += inFlight) {
      await Promise.all(
        Array.from({ length: inFlight }, async (_, j) => {
          const i = start + j;
          const result = await reserve(`u${i}`, 'reject', 0, `seed${i}`);
          if (!result.ok) throw new Error('seeding refused');
          await store.commit(`seed${i}`, record(i));
        }),
      );
    }
  }, 120_000);
  afterAll(() => dispose());

  it('counts, fetches and lists them', async () => {
    expect(await store.countAll()).toBe(live);
    expect(await store.get('s4242')).toEqual(record(4242));
    expect(await store.listByUser('u4242')).toEqual([record(4242)]);
    expect((await store.listAll(3)).map((r) => r.sessionId)).toEqual(['s99999', 's99998', 's99997']);
  });

  it('takes the same reservation decisions', async () => {
    expect(await reserve('u7')).toEqual({ ok: false, reason: 'user-cap' });
    expect(await reserve('u8', 'replace-oldest')).toEqual({ ok: true, victims: [record(8)] });
    expect(await reserve('newcomer', 'reject', live + 2)).toEqual({ ok: true, victims: [] });
    expect(await reserve('another', 'reject', live + 2)).toEqual({ ok: false, reason: 'global-cap' });
  });

  it('ends one session among them and sweeps only the lapsed ones', async () => {
    expect(await store.requestEnd({ sessionId: 's9', reason: 'user', dueAt: time })).toEqual(record(9));
    expect(await store.finishEnd('s9')).toEqual(record(9));
    expect(await store.get('s9')).toBeUndefined();
    time = record(2).expiresAt + retentionSlackMs;
    expect((await store.sweepExpired(100)).map((r) => r.sessionId).sort()).toEqual(['s0', 's1', 's2']);
    expect(await store.countAll()).toBe(live - 4);
  });
});
