import { afterEach, describe, expect, it } from '@jest/globals';
import { buildTestApp, createSessionFor, type TestApp } from '../helpers/build-test-app';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** The state a circuit reports on /metrics. */
async function circuitState(app: TestApp, circuit: string): Promise<string | undefined> {
  const text = (await app.http.get('/metrics')).text;
  const line = new RegExp(
    `^avaturn_broker_circuit_state\\{upstream="${circuit}",state="([a-z-]+)"\\} 1$`,
    'm',
  );
  return line.exec(text)?.[1];
}

const postSession = async (app: TestApp, user: string) =>
  app.http
    .post('/session')
    .set('Authorization', await app.bearer(user))
    .send({});

describe('Avaturn’s circuits', () => {
  it('an outage of DELETE alone › opens the terminate circuit only, and creates keep working', async () => {
    t = await buildTestApp({
      env: { MAX_SESSIONS_PER_USER: '5' },
      deps: { upstreamOptions: { circuit: { volumeThreshold: 3, resetTimeoutMs: 60_000 } } },
    });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await createSessionFor(t, 'alice'));
    t.sim.inject({ route: 'avaturn.terminate', status: 503, times: 0 });
    for (const id of ids) {
      const res = await t.http.delete(`/session/${id}`).set('Authorization', await t.bearer('alice'));
      expect(res.status).toBeGreaterThanOrEqual(500);
    }
    expect(await circuitState(t, 'avaturn-terminate')).toBe('open');

    expect((await postSession(t, 'bob')).status).toBe(201);
    expect(await circuitState(t, 'avaturn-create')).toBe('closed');
    expect(t.logs.lines().filter((l) => l.msg === 'avaturn-terminate circuit open')).toHaveLength(1);
  });

  it('an outage of create alone › leaves ending sessions to the terminate circuit, which stays closed', async () => {
    t = await buildTestApp({
      deps: { upstreamOptions: { circuit: { volumeThreshold: 3, resetTimeoutMs: 60_000 } } },
    });
    const id = await createSessionFor(t, 'alice');
    t.sim.inject({ route: 'avaturn.create', status: 503, times: 0 });
    for (let i = 0; i < 4; i++) expect((await postSession(t, 'bob')).status).toBe(503);
    expect(await circuitState(t, 'avaturn-create')).toBe('open');

    const ended = await t.http.delete(`/session/${id}`).set('Authorization', await t.bearer('alice'));
    expect(ended.status).toBe(204);
    expect(await circuitState(t, 'avaturn-terminate')).toBe('closed');
  });
});
