import type { Redis } from 'ioredis';
import { createRedisStore } from '../../src/store/redis/redis-store';
import { testProfiles } from '../fixtures/profiles';
import { buildTestApp, expectProblem, type TestApp } from '../helpers/build-test-app';
import { agentProfile, externalCredentials, testSigningKey } from '../helpers/external-engine';
import { startRedisServer, type RedisServer } from '../helpers/redis-server';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver';
import { eventually } from '../helpers/waiting';

const keyPrefix = 'at-rest:';
/** Every key the broker writes starts with its prefix as a hash tag. */
const keyPattern = `{${keyPrefix}}*`;
const adminToken = 'admin-token-that-is-long-enough-0123456789';
const engines = { 'openai-realtime': 'default', cartesia: 'support', external: 'agent' } as const;

/** Every key under the prefix with everything it holds (fields, members, scores), as text. */
async function everythingStored(admin: Redis): Promise<{ names: string[]; dump: string }> {
  const names = (await admin.keys(keyPattern)).sort();
  const parts: string[] = [];
  for (const name of names) {
    const type = await admin.type(name);
    const value =
      type === 'string'
        ? await admin.get(name)
        : type === 'hash'
          ? await admin.hgetall(name)
          : type === 'list'
            ? await admin.lrange(name, 0, -1)
            : type === 'zset'
              ? await admin.zrange(name, 0, -1, 'WITHSCORES')
              : type === 'set'
                ? await admin.smembers(name)
                : `unexpected type ${type}`;
    parts.push(name, JSON.stringify(value));
  }
  return { names, dump: parts.join('\n') };
}

describe('what Redis holds at rest', () => {
  let redis: RedisServer;
  let receiver: WebhookReceiver;
  let t: TestApp;

  beforeEach(async () => {
    redis = await startRedisServer();
    receiver = await startWebhookReceiver();
    // The receiver is down: every event stays queued in the outbox, as it would during an outage.
    await receiver.down();
    t = await buildTestApp({
      profiles: { ...testProfiles, agent: agentProfile },
      env: {
        REDIS_URL: redis.url,
        EVENTS_WEBHOOK_URL: receiver.url,
        EVENTS_WEBHOOK_SECRET: receiver.secret,
        EXTERNAL_ENGINE_SIGNING_KEY: testSigningKey,
        ADMIN_TOKEN: adminToken,
        MAX_SESSIONS_PER_USER: '3',
      },
      deps: { store: createRedisStore({ url: redis.url, keyPrefix }) },
    });
  });

  afterEach(async () => {
    await t.close();
    await receiver.close();
    await redis.close();
  });

  const post = async (user: string, key: string, profile: string) =>
    t.http
      .post('/session')
      .set('Authorization', await t.bearer(user))
      .set('Idempotency-Key', key)
      .send({ profile });

  it('holds no token, credential, key or JWT after creates, replays, ends and queued events', async () => {
    const bearers: string[] = [];
    const idempotencyKeys: string[] = [];
    // Avaturn's DELETE fails throughout: each ended session's termination stays queued.
    t.sim.inject({ route: 'avaturn.terminate', status: 503, times: 0 });
    for (const [engine, profile] of Object.entries(engines)) {
      const user = `user-${engine}`;
      const key = `key-${engine}-7d1f0c2e`;
      bearers.push(await t.bearer(user));
      idempotencyKeys.push(key);
      const first = await post(user, key, profile);
      expect(first.status).toBe(201);
      const replay = await post(user, key, profile);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.body).toEqual(first.body);
      const second = await post(user, `${key}-second`, profile);
      expect(second.status).toBe(201);
      const end = await t.http
        .delete(`/session/${second.body.session_id}`)
        .set('Authorization', bearers.at(-1)!);
      expect(end.status).toBe(503);
    }
    await eventually(async () => {
      expect((await t.broker.store.queueDepth()).event).toBeGreaterThanOrEqual(3);
    });

    const ledger = t.sim.ledger();
    const secrets = [
      t.env.AVATURN_API_KEY!,
      t.env.OPENAI_API_KEY!,
      t.env.CARTESIA_API_KEY!,
      t.env.AUTH_JWT_SECRET!,
      testSigningKey,
      adminToken,
      receiver.secret,
      agentProfile.engine.headers['X-Agent-Key'],
      ...bearers.map((bearer) => bearer.replace(/^Bearer /, '')),
      ...ledger.credentials.map((credential) => credential.value),
      ...externalCredentials(ledger),
      ...ledger.sessions.map((session) => session.token),
    ];
    expect(ledger.sessions).toHaveLength(6);
    expect(ledger.credentials.length).toBeGreaterThanOrEqual(4);
    expect(externalCredentials(ledger).length).toBeGreaterThanOrEqual(2);

    const { names, dump } = await everythingStored(redis.admin);
    expect(dump).toContain('"terminate:');
    expect(names.some((name) => name.includes('idem:'))).toBe(true);
    for (const secret of secrets) expect(dump).not.toContain(secret);
    for (const key of idempotencyKeys) expect(names.join('\n')).not.toContain(key);
    expect(names.filter((name) => name.includes('idem:')).join('\n')).not.toContain('user-');
  });

  it('answers a replay whose stored answer was altered in Redis with a clean 422, creating nothing', async () => {
    expect((await post('alice', 'key-to-alter', 'default')).status).toBe(201);
    const [entry] = await redis.admin.keys(`{${keyPrefix}}idem:*`);
    const sealed = JSON.parse((await redis.admin.hget(entry!, 'response'))!) as { data: string };
    const flipped = sealed.data.startsWith('A') ? `B${sealed.data.slice(1)}` : `A${sealed.data.slice(1)}`;
    await redis.admin.hset(entry!, 'response', JSON.stringify({ ...sealed, data: flipped }));

    const replay = await post('alice', 'key-to-alter', 'default');
    expectProblem(replay, 422, 'idempotency-key-reused');
    expect(replay.text).not.toMatch(/decipher|auth|stack/i);
    expect(t.sim.ledger().sessions).toHaveLength(1);
  });
});
