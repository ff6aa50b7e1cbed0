import request from 'supertest';
import { startSimulator } from '../../src/simulator';
import { buildTestApp, expectProblem, type TestApp, useTestApp } from '../helpers/build-test-app';
import { listenOn, type Listening } from '../helpers/serve';

const appOrigin = 'https://app.example';

describe('CORS with CORS_ORIGINS=https://app.example', () => {
  const t = useTestApp({ env: { CORS_ORIGINS: `${appOrigin}, https://admin.example` } });

  it('POST /session › from the app origin › allows it to read the 201, its Location, X-Request-Id and Idempotent-Replayed', async () => {
    const res = await t.http
      .post('/session')
      .set('Origin', appOrigin)
      .set('Authorization', await t.bearer('alice'));
    expect(res.status).toBe(201);
    expect(res.headers['access-control-allow-origin']).toBe(appOrigin);
    expect(res.headers['vary']).toMatch(/\bOrigin\b/i);
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    const exposed = (res.headers['access-control-expose-headers'] ?? '').toLowerCase().split(/\s*,\s*/);
    expect(exposed).toEqual(
      expect.arrayContaining(['location', 'x-request-id', 'retry-after', 'ratelimit', 'idempotent-replayed']),
    );
  });

  it('POST /session › from the app origin without a token › lets it read the 401 problem', async () => {
    const res = await t.http.post('/session').set('Origin', appOrigin);
    expectProblem(res, 401, 'unauthenticated');
    expect(res.headers['access-control-allow-origin']).toBe(appOrigin);
  });

  it('allows every origin on the list, each answered with its own origin', async () => {
    const res = await t.http.get('/healthz').set('Origin', 'https://admin.example');
    expect(res.headers['access-control-allow-origin']).toBe('https://admin.example');
  });

  it.each([
    ['POST', '/session'],
    ['DELETE', '/session/abc123'],
  ])(
    'preflight for %s %s from the app origin › answers 204 allowing the method and the broker’s headers, with no upstream call',
    async (method, path) => {
      const res = await t.http
        .options(path)
        .set('Origin', appOrigin)
        .set('Access-Control-Request-Method', method)
        .set('Access-Control-Request-Headers', 'authorization, content-type, idempotency-key');
      expect(res.status).toBe(204);
      expect(res.headers['access-control-allow-origin']).toBe(appOrigin);
      expect(res.headers['vary']).toMatch(/\bOrigin\b/i);
      const methods = (res.headers['access-control-allow-methods'] ?? '').toUpperCase().split(/\s*,\s*/);
      expect(methods).toContain(method);
      const headers = (res.headers['access-control-allow-headers'] ?? '').toLowerCase().split(/\s*,\s*/);
      expect(headers).toEqual(expect.arrayContaining(['authorization', 'content-type', 'idempotency-key']));
      expect(Number(res.headers['access-control-max-age'])).toBeGreaterThan(0);
      expect(t.sim.ledger().calls).toHaveLength(0);
    },
  );

  describe.each([
    'https://evil-app.example',
    'https://app.example.evil.com',
    'http://app.example',
    'https://app.example:8443',
    'https://app.example/',
    'https://sub.app.example',
    'null',
    'https://unlisted.example',
  ])('from the origin %s', (origin) => {
    it('a normal request gets no Access-Control-Allow-Origin', async () => {
      const res = await t.http
        .post('/session')
        .set('Origin', origin)
        .set('Authorization', await t.bearer('alice'));
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
      expect(res.headers['access-control-expose-headers']).toBeUndefined();
    });

    it('a preflight gets no Access-Control-Allow-* header and no upstream call', async () => {
      const res = await t.http
        .options('/session')
        .set('Origin', origin)
        .set('Access-Control-Request-Method', 'POST')
        .set('Access-Control-Request-Headers', 'authorization, content-type');
      expect(Object.keys(res.headers).filter((name) => name.startsWith('access-control-allow'))).toEqual([]);
      expect(t.sim.ledger().calls).toHaveLength(0);
    });
  });
});

describe('CORS without CORS_ORIGINS', () => {
  it('sends no CORS headers at all, even for an origin that might look trusted', async () => {
    const t = await buildTestApp();
    try {
      const res = await t.http.get('/healthz').set('Origin', appOrigin);
      expect(res.status).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
      const preflight = await t.http
        .options('/session')
        .set('Origin', appOrigin)
        .set('Access-Control-Request-Method', 'POST');
      expect(preflight.headers['access-control-allow-methods']).toBeUndefined();
    } finally {
      await t.close();
    }
  });
});

describe('security headers', () => {
  it('sends helmet’s headers and no X-Powered-By, on success and on error', async () => {
    const t = await buildTestApp();
    try {
      const ok = await t.http.get('/healthz');
      const problem = await t.http.post('/session');
      for (const res of [ok, problem]) {
        expect(res.headers['x-powered-by']).toBeUndefined();
        expect(res.headers['x-content-type-options']).toBe('nosniff');
        expect(res.headers['content-security-policy']).toMatch(/default-src 'self'/);
        expect(res.headers['strict-transport-security']).toMatch(/max-age=\d+/);
        expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
        expect(res.headers['referrer-policy']).toBe('no-referrer');
      }
    } finally {
      await t.close();
    }
  });
});

describe('the per-IP rate limit behind a proxy', () => {
  let t: TestApp;
  let broker: Listening;
  let http: ReturnType<typeof request>;

  async function start(env: Record<string, string>) {
    t = await buildTestApp({ env: { RATE_LIMIT_IP_PER_MINUTE: '3', ...env } });
    broker = await listenOn(t.broker.app);
    http = request(broker.server);
  }
  afterEach(async () => {
    await broker.close();
    await t.close();
  });

  const listFrom = async (forwardedFor: string, user = 'alice') =>
    http
      .get('/sessions')
      .set('Authorization', await t.bearer(user))
      .set('X-Forwarded-For', forwardedFor);

  function expectRateLimited(res: request.Response) {
    expectProblem(res, 429, 'rate-limited');
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(res.headers['ratelimit']).toMatch(/r=0/);
    expect(res.headers['ratelimit-policy']).toMatch(/q=3/);
  }

  describe('with TRUST_PROXY=1', () => {
    beforeEach(async () => {
      await start({ TRUST_PROXY: '1' });
    });

    it('a client forging a fresh leftmost X-Forwarded-For on each request stays in one bucket: the 4th is 429', async () => {
      const answers = [];
      for (let n = 1; n <= 4; n++) answers.push(await listFrom(`1.2.3.${n}, 10.0.0.1`, `user-${n}`));
      expect(answers.slice(0, 3).map((res) => res.status)).toEqual([200, 200, 200]);
      expectRateLimited(answers[3]!);
      expect(t.sim.ledger().calls).toHaveLength(0);
    });

    it('two clients the proxy tells apart (the rightmost entry) get a bucket each', async () => {
      for (let n = 1; n <= 3; n++) expect((await listFrom(`1.2.3.${n}, 10.0.0.1`)).status).toBe(200);
      expectRateLimited(await listFrom('9.9.9.9, 10.0.0.1'));
      expect((await listFrom('1.2.3.4, 10.0.0.2')).status).toBe(200);
    });

    it('limits POST /session before authentication, so bad tokens count too', async () => {
      for (let n = 1; n <= 3; n++) {
        const res = await http.post('/session').set('X-Forwarded-For', `6.6.6.${n}, 10.0.0.1`);
        expectProblem(res, 401, 'unauthenticated');
      }
      expectRateLimited(await http.post('/session').set('X-Forwarded-For', '6.6.6.9, 10.0.0.1'));
      expect(t.sim.ledger().calls).toHaveLength(0);
    });
  });

  describe('with TRUST_PROXY unset', () => {
    beforeEach(async () => {
      await start({});
    });

    it('ignores X-Forwarded-For entirely: every request from 127.0.0.1 shares one bucket', async () => {
      const answers = [];
      for (let n = 1; n <= 4; n++) answers.push(await listFrom(`1.2.3.${n}, 10.0.0.${n}`, `user-${n}`));
      expect(answers.slice(0, 3).map((res) => res.status)).toEqual([200, 200, 200]);
      expectRateLimited(answers[3]!);
      expectRateLimited(await http.get('/sessions').set('Authorization', await t.bearer('alice')));
    });
  });
});

describe('TRUST_PROXY=true', () => {
  it('is refused at start-up, naming the variable', async () => {
    const sim = await startSimulator();
    try {
      await expect(buildTestApp({ simulator: sim, env: { TRUST_PROXY: 'true' } })).rejects.toThrow(
        /TRUST_PROXY/,
      );
    } finally {
      await sim.close();
    }
  });
});
