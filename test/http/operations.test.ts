import { createMemoryStore } from '../../src/store/memory/memory-store';
import { buildTestApp, expectProblem, type TestApp } from '../helpers/build-test-app';

describe('operational routes', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('GET /healthz answers 200 even when the store is down', async () => {
    const memory = createMemoryStore();
    t = await buildTestApp({
      deps: { store: { ...memory, kind: memory.kind, ping: () => Promise.reject(new Error('down')) } },
    });
    expect((await t.http.get('/healthz')).status).toBe(200);
    expectProblem(await t.http.get('/readyz'), 503, 'not-ready');
  });

  it('GET /readyz answers 200 while the store answers, and 503 once draining', async () => {
    t = await buildTestApp();
    const ready = await t.http.get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', store: 'memory' });
    t.broker.startDraining();
    expectProblem(await t.http.get('/readyz'), 503, 'not-ready');
    expect((await t.http.get('/healthz')).status).toBe(200);
  });

  it('GET /metrics serves Prometheus text with session counters', async () => {
    t = await buildTestApp();
    await t.http
      .post('/session')
      .set('Authorization', await t.bearer('alice'))
      .send({});
    const res = await t.http.get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toMatch(
      /avaturn_broker_sessions_created_total\{profile="default",engine="openai-realtime"\} 1/,
    );
    expect(res.text).toMatch(/avaturn_broker_live_sessions 1/);
  });

  it('GET /metrics counts failed creates by problem code', async () => {
    t = await buildTestApp();
    t.sim.inject({ route: 'avaturn.create', status: 422 });
    await t.http
      .post('/session')
      .set('Authorization', await t.bearer('alice'))
      .send({});
    const res = await t.http.get('/metrics');
    expect(res.text).toMatch(/avaturn_broker_session_create_failures_total\{code="upstream-error"\} 1/);
  });

  it('GET /metrics requires the bearer METRICS_TOKEN when one is set', async () => {
    t = await buildTestApp({ env: { METRICS_TOKEN: 'metrics-token-123' } });
    expectProblem(await t.http.get('/metrics'), 401, 'unauthenticated');
    expectProblem(await t.http.get('/metrics').set('Authorization', 'Bearer wrong'), 401, 'unauthenticated');
    expect((await t.http.get('/metrics').set('Authorization', 'Bearer metrics-token-123')).status).toBe(200);
  });

  it.each(['bearer', 'BEARER', 'BeArEr'])(
    'GET /metrics accepts the METRICS_TOKEN with the scheme written %s, as the session routes do',
    async (scheme) => {
      t = await buildTestApp({ env: { METRICS_TOKEN: 'metrics-token-123' } });
      expect((await t.http.get('/metrics').set('Authorization', `${scheme} metrics-token-123`)).status).toBe(
        200,
      );
      const wrong = await t.http.get('/metrics').set('Authorization', `${scheme} metrics-token-124`);
      expectProblem(wrong, 401, 'unauthenticated');
      const prefix = await t.http.get('/metrics').set('Authorization', `${scheme} metrics-token-12`);
      expectProblem(prefix, 401, 'unauthenticated');
    },
  );
});
