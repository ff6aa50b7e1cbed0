import { afterEach, describe, expect, it } from '@jest/globals';
import { createSessionFor, expectProblem } from '../helpers/build-test-app';
import { buildWorld, storeKinds, type World } from '../helpers/world';

const adminToken = 'admin-token-that-is-long-enough-0123456789';
const wrongToken = `${adminToken.slice(0, -1)}x`;

let world: World | undefined;
afterEach(async () => {
  await world?.dispose();
  world = undefined;
});

const auditLines = (w: World) => w.t.logs.lines().filter((line) => line.audit === 'admin');

describe.each(storeKinds)('admin requests (%s store)', (kind) => {
  it('each write one audit line: client address as the per-IP limit sees it, route, target user and status, refused ones too', async () => {
    world = await buildWorld(kind, { env: { ADMIN_TOKEN: adminToken, TRUST_PROXY: '1' } });
    const { t } = world;
    await createSessionFor(t, 'mallory');
    const from = (ip: string) => ({ 'X-Forwarded-For': `198.51.100.99, ${ip}` });

    await t.http
      .delete('/admin/users/mallory/sessions')
      .set(from('203.0.113.7'))
      .set('Authorization', `Bearer ${adminToken}`)
      .expect(200);
    await t.http
      .get('/admin/sessions')
      .set(from('203.0.113.8'))
      .set('Authorization', `Bearer ${adminToken}`)
      .expect(200);
    await t.http
      .delete('/admin/users/bob/sessions')
      .set(from('203.0.113.9'))
      .set('Authorization', `Bearer ${wrongToken}`)
      .expect(401);
    await t.http.get('/admin/sessions').set(from('203.0.113.9')).expect(401);

    expect(auditLines(world)).toEqual([
      expect.objectContaining({
        level: 'info',
        ip: '203.0.113.7',
        method: 'DELETE',
        route: '/admin/users/:user/sessions',
        user: 'mallory',
        status: 200,
      }),
      expect.objectContaining({
        level: 'info',
        ip: '203.0.113.8',
        method: 'GET',
        route: '/admin/sessions',
        status: 200,
      }),
      expect.objectContaining({
        level: 'warn',
        ip: '203.0.113.9',
        method: 'DELETE',
        route: '/admin/users/:user/sessions',
        user: 'bob',
        status: 401,
      }),
      expect.objectContaining({
        level: 'warn',
        ip: '203.0.113.9',
        method: 'GET',
        route: '/admin/sessions',
        status: 401,
      }),
    ]);
    expect(auditLines(world)[1]).not.toHaveProperty('user');
    expect(t.logs.text).not.toContain(adminToken);
    expect(t.logs.text).not.toContain(wrongToken);
  });

  it('wrong admin tokens have a bucket of their own: the guesser is limited, the users behind that address are not, nor the right token’s own calls', async () => {
    world = await buildWorld(kind, { env: { ADMIN_TOKEN: adminToken, RATE_LIMIT_IP_PER_MINUTE: '5' } });
    const { t } = world;
    for (let i = 0; i < 5; i++)
      expectProblem(
        await t.http.get('/admin/sessions').set('Authorization', `Bearer ${wrongToken}`),
        401,
        'unauthenticated',
      );
    const limited = await t.http.get('/admin/sessions').set('Authorization', `Bearer ${wrongToken}`);
    expectProblem(limited, 429, 'rate-limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(auditLines(world).at(-1)).toMatchObject({ status: 429, level: 'warn' });

    // The users' per-IP bucket is untouched by all of that.
    for (let i = 0; i < 5; i++)
      expect((await t.http.get('/sessions').set('Authorization', await t.bearer('alice'))).status).toBe(200);
    expect((await t.http.get('/metrics')).text).toMatch(
      /avaturn_broker_rejections_total\{reason="rate-admin"\} 1\b/,
    );
  });

  it('the right token’s calls do not use up the admin bucket', async () => {
    world = await buildWorld(kind, { env: { ADMIN_TOKEN: adminToken, RATE_LIMIT_IP_PER_MINUTE: '3' } });
    const { t } = world;
    for (let i = 0; i < 8; i++)
      expect((await t.http.get('/admin/sessions').set('Authorization', `Bearer ${adminToken}`)).status).toBe(
        200,
      );
  });
});
