import { afterEach, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { keyTag } from '../../src/store/redis/redis-keys';
import { signToken } from '../fixtures/tokens';
import { expectProblem } from '../helpers/build-test-app';
import { buildWorld, redisUrl, storeKinds, type World } from '../helpers/world';

let world: World | undefined;
afterEach(async () => {
  await world?.dispose();
  world = undefined;
});

describe.each(storeKinds)('a user claim that is not well-formed Unicode (%s store)', (kind) => {
  it('is refused with 401 on every route, so two lone surrogates cannot share one user', async () => {
    world = await buildWorld(kind);
    const { t } = world;
    // Both would be stored as U+FFFD: the same user in Redis.
    const tokens = await Promise.all(
      ['alice\uD800', 'alice\uDC01', '\uDBFF'].map((sub) => signToken({ sub })),
    );
    for (const token of tokens) {
      const bearer = `Bearer ${token}`;
      expectProblem(
        await t.http.post('/session').set('Authorization', bearer).send({}),
        401,
        'unauthenticated',
      );
      expectProblem(await t.http.get('/sessions').set('Authorization', bearer), 401, 'unauthenticated');
      expectProblem(await t.http.delete('/session/abc').set('Authorization', bearer), 401, 'unauthenticated');
      expectProblem(
        await t.http.post('/session/abc/end').set('Content-Type', 'text/plain').send(token),
        401,
        'unauthenticated',
      );
    }
    expect(t.sim.ledger().calls).toHaveLength(0);
  });

  it('still accepts a well-formed id with characters outside the BMP', async () => {
    world = await buildWorld(kind);
    const { t } = world;
    const bearer = `Bearer ${await signToken({ sub: 'alice\u{1F600}' })}`;
    const created = await t.http.post('/session').set('Authorization', bearer).send({});
    expect(created.status).toBe(201);
    const listed = await t.http.get('/sessions').set('Authorization', bearer);
    expect(listed.body.sessions.map((s: { session_id: string }) => s.session_id)).toEqual([
      created.body.session_id,
    ]);
  });
});

describe('a Redis script that fails', () => {
  it('answers 503 and logs the script and the error code, never its arguments', async () => {
    world = await buildWorld('redis');
    const { t, keyPrefix } = world;
    const user = `user-${randomUUID()}`;
    // A key of the wrong type makes the reserve script fail inside Redis (WRONGTYPE).
    const admin = new Redis(redisUrl);
    await admin.set(`${keyTag(keyPrefix!)}user-sessions`, 'not a sorted set');
    await admin.quit();

    const res = await t.http
      .post('/session')
      .set('Authorization', `Bearer ${await signToken({ sub: user })}`)
      .send({});

    expectProblem(res, 503, 'not-ready');
    const failure = t.logs.lines().find((line) => (line.res as { statusCode?: number })?.statusCode === 503);
    expect(failure?.level).toBe('error');
    expect(failure?.err).toMatchObject({
      message: 'Redis script reserve failed: WRONGTYPE',
      code: 'WRONGTYPE',
    });
    expect(t.logs.text).not.toContain(user);
    expect(t.logs.text).not.toContain(keyPrefix);
  });
});
