import { buildTestApp, expectProblem, type TestApp } from '../helpers/build-test-app';

const strangerOrigin = 'https://stranger.example';

describe('a CORS preflight from an origin the broker does not allow', () => {
  let t: TestApp;
  afterEach(async () => {
    await t.close();
  });

  it.each([
    [
      'CORS_ORIGINS=https://app.example',
      { CORS_ORIGINS: 'https://app.example' },
      /not in the broker’s CORS_ORIGINS/,
    ],
    ['CORS off', {}, /CORS is off \(CORS_ORIGINS is not set\)/],
  ])(
    'with %s › answers 403 forbidden as problem+json naming CORS_ORIGINS, with no CORS header, the origin not echoed, and a debug line',
    async (_setting, env, detail) => {
      t = await buildTestApp({ env });
      const res = await t.http
        .options('/session')
        .set('Origin', strangerOrigin)
        .set('Access-Control-Request-Method', 'POST')
        .set('Access-Control-Request-Headers', 'authorization, content-type');
      expectProblem(res, 403, 'forbidden');
      expect(res.body.detail).toMatch(detail);
      expect(res.text).not.toContain('stranger');
      expect(Object.keys(res.headers).filter((name) => name.startsWith('access-control-'))).toEqual([]);
      expect(t.sim.ledger().calls).toEqual([]);
      expect(t.logs.lines()).toContainEqual(
        expect.objectContaining({
          level: 'debug',
          origin: strangerOrigin,
          msg: 'CORS preflight refused: origin not in CORS_ORIGINS',
        }),
      );
    },
  );

  it('leaves a plain request from that origin alone: answered, without CORS headers', async () => {
    t = await buildTestApp({ env: { CORS_ORIGINS: 'https://app.example' } });
    const res = await t.http.get('/healthz').set('Origin', strangerOrigin);
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('at start, one info line about CORS', () => {
  let t: TestApp;
  afterEach(async () => {
    await t.close();
  });

  it('lists the allowed origins', async () => {
    t = await buildTestApp({ env: { CORS_ORIGINS: 'https://app.example,https://admin.example' } });
    const lines = t.logs.lines().filter((line) => /CORS/.test(String(line.msg)));
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'info',
        msg: 'CORS allows these origins',
        corsOrigins: ['https://app.example', 'https://admin.example'],
      }),
    ]);
  });

  it('says it is off when CORS_ORIGINS is unset', async () => {
    t = await buildTestApp({});
    const lines = t.logs.lines().filter((line) => /CORS/.test(String(line.msg)));
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'info',
        msg: expect.stringMatching(/^CORS off: CORS_ORIGINS is not set/),
      }),
    ]);
  });
});
