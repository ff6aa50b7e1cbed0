import { createMemoryStore } from '../../src/store/memory/memory-store';
import { buildTestApp, expectProblem, type TestApp, useTestApp } from '../helpers/build-test-app';
import { listenOn, type Listening } from '../helpers/serve';

const routesCalled = (t: TestApp, route: string) =>
  t.sim.ledger().calls.filter((call) => call.route === route).length;

async function create(t: TestApp, user = 'alice', profile?: string) {
  return t.http
    .post('/session')
    .set('Authorization', await t.bearer(user))
    .send(profile === undefined ? {} : { profile });
}

describe('POST /session when an upstream fails', () => {
  const t = useTestApp({ env: { UPSTREAM_TIMEOUT_MS: '400', SESSION_CREATE_DEADLINE_MS: '3000' } });

  describe('when OpenAI answers 401', () => {
    it('answers 502 upstream-error without upstream text, does not retry, calls no Avaturn and frees the slot', async () => {
      t.sim.inject({ route: 'openai.mint', status: 401 });
      const res = await create(t);
      expectProblem(res, 502, 'upstream-error');
      expect(res.body.detail).not.toMatch(/key|Incorrect|invalid_api_key/i);
      expect(routesCalled(t, 'openai.mint')).toBe(1);
      expect(routesCalled(t, 'avaturn.create')).toBe(0);
      expect((await create(t)).status).toBe(201);
    });
  });

  describe('when OpenAI answers 500', () => {
    it('retries at most twice, then answers 503 upstream-unavailable with Retry-After', async () => {
      t.sim.inject({ route: 'openai.mint', status: 500, times: 0 });
      const res = await create(t);
      expectProblem(res, 503, 'upstream-unavailable');
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      expect(routesCalled(t, 'openai.mint')).toBe(3);
      expect(routesCalled(t, 'avaturn.create')).toBe(0);
    });

    it('succeeds when a retry gets through', async () => {
      t.sim.inject({ route: 'openai.mint', status: 500, times: 1 });
      expect((await create(t)).status).toBe(201);
      expect(routesCalled(t, 'openai.mint')).toBe(2);
    });
  });

  describe('when OpenAI answers 400', () => {
    it('does not retry a 4xx other than 408/409/429', async () => {
      t.sim.inject({ route: 'openai.mint', status: 400, times: 0 });
      expectProblem(await create(t), 502, 'upstream-error');
      expect(routesCalled(t, 'openai.mint')).toBe(1);
    });
  });

  describe('when OpenAI answers 200 with an unusable body', () => {
    it('answers 502 upstream-error', async () => {
      t.sim.inject({ route: 'openai.mint', status: 200, body: { value: 42 } });
      expectProblem(await create(t), 502, 'upstream-error');
      expect(routesCalled(t, 'avaturn.create')).toBe(0);
    });
  });

  describe('when Cartesia answers 429', () => {
    it('honours Retry-After between its retries, then answers 503 upstream-unavailable', async () => {
      t.sim.inject({ route: 'cartesia.mint', status: 429, retryAfter: '1', times: 0 });
      const started = Date.now();
      const res = await create(t, 'alice', 'support');
      expectProblem(res, 503, 'upstream-unavailable');
      expect(routesCalled(t, 'cartesia.mint')).toBe(3);
      expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
      expect(routesCalled(t, 'avaturn.create')).toBe(0);
    });

    it('does not retry when Retry-After is longer than it may wait', async () => {
      t.sim.inject({ route: 'cartesia.mint', status: 429, retryAfter: '30', times: 0 });
      const res = await create(t, 'alice', 'support');
      expectProblem(res, 503, 'upstream-unavailable');
      expect(routesCalled(t, 'cartesia.mint')).toBe(1);
    });
  });

  describe('when Avaturn answers 422', () => {
    it('answers 502 upstream-error, never retries the create and leaves no session', async () => {
      t.sim.inject({ route: 'avaturn.create', status: 422 });
      expectProblem(await create(t), 502, 'upstream-error');
      expect(routesCalled(t, 'avaturn.create')).toBe(1);
      expect(t.sim.liveSessions()).toHaveLength(0);
      expect((await create(t)).status).toBe(201);
    });
  });

  describe('when Avaturn answers 5xx', () => {
    it('answers 503 upstream-unavailable and does not retry the create', async () => {
      t.sim.inject({ route: 'avaturn.create', status: 503, times: 0 });
      expectProblem(await create(t), 503, 'upstream-unavailable');
      expect(routesCalled(t, 'avaturn.create')).toBe(1);
    });
  });

  describe('when Avaturn redirects', () => {
    it('does not follow the redirect and answers 502', async () => {
      t.sim.inject({ route: 'avaturn.create', status: 307, body: {} });
      expectProblem(await create(t), 502, 'upstream-error');
      expect(routesCalled(t, 'avaturn.create')).toBe(1);
    });
  });

  describe('when Avaturn answers an oversized body', () => {
    it('stops reading and answers 502', async () => {
      t.sim.inject({ route: 'avaturn.create', status: 200, body: 'x'.repeat(200_000) });
      expectProblem(await create(t), 502, 'upstream-error');
    });
  });

  describe('when Avaturn hangs on create', () => {
    it('answers 504 upstream-timeout within the upstream timeout', async () => {
      t.sim.inject({ route: 'avaturn.create', hang: true });
      const started = Date.now();
      expectProblem(await create(t), 504, 'upstream-timeout');
      expect(Date.now() - started).toBeLessThan(2500);
      expect((await create(t)).status).toBe(201);
    });
  });

  describe('when Avaturn created the session but answered without a usable token', () => {
    it('answers 502 and terminates the session it created', async () => {
      t.sim.inject({
        route: 'avaturn.create',
        status: 200,
        body: { session_id: 'orphan_1', token: '' },
        afterEffect: false,
      });
      const res = await create(t);
      expectProblem(res, 502, 'upstream-error');
      await t.broker.terminations.settle();
      const terminations = t.sim.ledger().calls.filter((call) => call.route === 'avaturn.terminate');
      expect(terminations.map((call) => call.path)).toEqual(['/api/v1/sessions/orphan_1']);
    });
  });
});

describe('POST /session when the whole request passes its deadline', () => {
  let hanging: Listening;
  beforeAll(async () => {
    hanging = await listenOn(() => undefined);
  });
  afterAll(() => hanging.close());

  it('answers 504 close to the deadline and leaves no socket open to the hanging upstream', async () => {
    const t = await buildTestApp({
      env: { AVATURN_BASE_URL: hanging.url, UPSTREAM_TIMEOUT_MS: '5000', SESSION_CREATE_DEADLINE_MS: '600' },
    });
    try {
      const started = Date.now();
      const res = await create(t);
      const elapsed = Date.now() - started;
      expectProblem(res, 504, 'upstream-timeout');
      expect(elapsed).toBeGreaterThanOrEqual(550);
      expect(elapsed).toBeLessThan(2000);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const open = await new Promise<number>((resolve, reject) =>
        hanging.server.getConnections((err, count) => (err ? reject(err) : resolve(count))),
      );
      expect(open).toBe(0);
    } finally {
      await t.close();
    }
  });
});

describe('POST /session when OpenAI answers an oversized body', () => {
  it('stops reading a declared-length body over the cap and answers 502', async () => {
    const t = await buildTestApp();
    try {
      t.sim.inject({ route: 'openai.mint', status: 200, body: { value: 'ek_x', pad: 'x'.repeat(200_000) } });
      expectProblem(await create(t), 502, 'upstream-error');
      expect(routesCalled(t, 'openai.mint')).toBe(1);
      expect(routesCalled(t, 'avaturn.create')).toBe(0);
    } finally {
      await t.close();
    }
  });

  it('stops reading a chunked body of no declared length once it passes the cap, and answers 502', async () => {
    let written = 0;
    let requests = 0;
    const endless = await listenOn((_req, res) => {
      requests++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"value":"ek_x","pad":"');
      const timer = setInterval(() => {
        written += 8192;
        if (!res.write('x'.repeat(8192)) || written > 1_000_000) clearInterval(timer);
      }, 1);
      res.on('close', () => clearInterval(timer));
    });
    const t = await buildTestApp({ env: { OPENAI_BASE_URL: `${endless.url}/v1` } });
    try {
      expectProblem(await create(t), 502, 'upstream-error');
      expect(written).toBeLessThan(1_000_000);
      expect(requests).toBe(1);
    } finally {
      await t.close();
      await endless.close();
    }
  });
});

describe('POST /session when registering the created session fails', () => {
  it('answers 503 not-ready, terminates the Avaturn session and frees the slot', async () => {
    const memory = createMemoryStore();
    let failCommit = true;
    const store = {
      ...memory,
      kind: memory.kind,
      commit: (...args: Parameters<typeof memory.commit>) =>
        failCommit ? Promise.reject(new Error('store went away')) : memory.commit(...args),
    };
    const t = await buildTestApp({ deps: { store } });
    try {
      const res = await create(t);
      expectProblem(res, 503, 'not-ready');
      await t.broker.terminations.settle();
      expect(t.sim.ledger().sessions).toHaveLength(1);
      expect(t.sim.ledger().sessions[0]).toMatchObject({ state: 'ended', endedBy: 'delete' });
      failCommit = false;
      expect((await create(t)).status).toBe(201);
    } finally {
      await t.close();
    }
  });
});

describe('the circuit breaker around Avaturn', () => {
  it('opens after repeated outages, answers fast 503s with Retry-After, and closes after a successful probe', async () => {
    const t = await buildTestApp({
      deps: { upstreamOptions: { circuit: { volumeThreshold: 3, resetTimeoutMs: 500 } } },
    });
    try {
      t.sim.inject({ route: 'avaturn.create', status: 503, times: 0 });
      for (let i = 0; i < 3; i++) expectProblem(await create(t), 503, 'upstream-unavailable');
      expect(routesCalled(t, 'avaturn.create')).toBe(3);

      const open = await create(t);
      expectProblem(open, 503, 'upstream-unavailable');
      expect(Number(open.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(routesCalled(t, 'avaturn.create')).toBe(3);

      t.sim.clearFaults();
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect((await create(t, 'bob')).status).toBe(201);
      expect((await create(t, 'carol')).status).toBe(201);
      expect(routesCalled(t, 'avaturn.create')).toBe(5);
    } finally {
      await t.close();
    }
  });

  it('does not open on a run of 4xx answers', async () => {
    const t = await buildTestApp({
      deps: { upstreamOptions: { circuit: { volumeThreshold: 3, resetTimeoutMs: 10_000 } } },
    });
    try {
      t.sim.inject({ route: 'avaturn.create', status: 422, times: 6 });
      for (let i = 0; i < 6; i++) expectProblem(await create(t), 502, 'upstream-error');
      expect(routesCalled(t, 'avaturn.create')).toBe(6);
      expect((await create(t)).status).toBe(201);
    } finally {
      await t.close();
    }
  });
});
