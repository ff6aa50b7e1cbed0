import { randomUUID } from 'node:crypto';
import { buildTestApp, createSessionFor, type TestApp } from '../helpers/build-test-app';
import { redisDeployment, redisModes, useRedisDeployment } from '../helpers/redis-deployment';

describe.each(redisModes)('a broker configured for %s by its environment alone', (mode) => {
  useRedisDeployment(mode);
  let t: TestApp | undefined;
  const keyPrefix = `test-modes-${randomUUID()}:`;
  afterEach(async () => {
    await t?.close();
    await (await redisDeployment(mode)).deleteKeys(keyPrefix);
  });

  it('is ready, and creates, lists and ends a session with every key under its hash tag', async () => {
    const deployment = await redisDeployment(mode);
    // No store passed in: loadConfig reads the variables (and the CA file) and the broker builds its own.
    t = await buildTestApp({ env: { ...deployment.env, REDIS_KEY_PREFIX: keyPrefix } });
    expect(t.broker.store.kind).toBe('redis');
    expect((await t.http.get('/readyz')).status).toBe(200);

    const id = await createSessionFor(t, 'alice');
    const auth = await t.bearer('alice');
    const listed = await t.http.get('/sessions').set('Authorization', auth);
    expect(listed.body.sessions.map((s: { session_id: string }) => s.session_id)).toEqual([id]);
    expect((await t.http.delete(`/session/${id}`).set('Authorization', auth)).status).toBe(204);
    expect(t.sim.liveSessions()).toEqual([]);

    const keys = await deployment.keys(keyPrefix);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(key.startsWith(`{${keyPrefix}}`)).toBe(true);
  });
});
