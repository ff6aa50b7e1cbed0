import { buildTestApp, expectProblem, type TestApp } from '../helpers/build-test-app';

const cartesiaCalls = (t: TestApp) => t.sim.ledger().calls.filter((c) => c.route === 'cartesia.mint').length;
const avaturnCreates = (t: TestApp) =>
  t.sim.ledger().calls.filter((c) => c.route === 'avaturn.create').length;

async function createSupport(t: TestApp, user = 'alice') {
  return t.http
    .post('/session')
    .set('Authorization', await t.bearer(user))
    .send({ profile: 'support' });
}

describe('POST /session when Cartesia refuses the mint', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  describe('with a 429 concurrency_limited (Cartesia-Version 2026-03-01, the default)', () => {
    beforeEach(async () => {
      t = await buildTestApp();
    });

    it('answers 503 upstream-unavailable with Cartesia’s Retry-After, at once, and frees the slot', async () => {
      t!.sim.inject({
        route: 'cartesia.mint',
        status: 429,
        errorCode: 'concurrency_limited',
        retryAfter: '20',
      });
      const res = await createSupport(t!);

      expectProblem(res, 503, 'upstream-unavailable');
      expect(res.headers['retry-after']).toBe('20');
      expect(cartesiaCalls(t!)).toBe(1);
      expect(avaturnCreates(t!)).toBe(0);
      expect((await createSupport(t!)).status).toBe(201);
    });

    it('answers Retry-After: 30 when Cartesia names no time, since a slot frees only when a call ends', async () => {
      t!.sim.inject({ route: 'cartesia.mint', status: 429, errorCode: 'concurrency_limited' });
      const res = await createSupport(t!);

      expectProblem(res, 503, 'upstream-unavailable');
      expect(res.headers['retry-after']).toBe('30');
    });

    it('does not open the circuit: a full account is not an outage', async () => {
      t!.sim.inject({ route: 'cartesia.mint', status: 429, errorCode: 'concurrency_limited', times: 8 });
      for (let i = 0; i < 8; i++)
        expectProblem(await createSupport(t!, `user-${i}`), 503, 'upstream-unavailable');
      expect(cartesiaCalls(t!)).toBe(8);
      expect((await createSupport(t!)).status).toBe(201);
    });

    it('logs the kind of failure, and none of Cartesia’s wording in the answer or the logs', async () => {
      t!.sim.inject({ route: 'cartesia.mint', status: 429, errorCode: 'concurrency_limited' });
      const res = await createSupport(t!);
      for (const text of ['concurrency limit', 'Too many concurrent requests']) {
        expect(res.text).not.toContain(text);
        expect(t!.logs.text).not.toContain(text);
      }
      const failure = t!.logs.lines().find((line) => line.code === 'upstream-unavailable');
      expect(failure?.err).toEqual({
        upstream: 'cartesia',
        kind: 'capacity',
        status: 429,
        upstreamRequestId: expect.any(String),
      });
    });
  });

  describe('with any other structured error', () => {
    beforeEach(async () => {
      t = await buildTestApp({ env: { UPSTREAM_TIMEOUT_MS: '400' } });
    });

    it.each([
      [429, 'rate_limited', 503, 'upstream-unavailable', 3],
      [500, undefined, 503, 'upstream-unavailable', 3],
      [503, undefined, 503, 'upstream-unavailable', 3],
      [400, 'invalid_request', 502, 'upstream-error', 1],
      [401, 'unauthorized', 502, 'upstream-error', 1],
      [403, undefined, 502, 'upstream-error', 1],
    ])('maps %i %s as before: %i %s after %i call(s)', async (status, errorCode, answer, code, calls) => {
      t!.sim.inject({
        route: 'cartesia.mint',
        status,
        times: 0,
        retryAfter: '0',
        ...(errorCode && { errorCode }),
      });
      const res = await createSupport(t!);
      expectProblem(res, answer, code);
      expect(cartesiaCalls(t!)).toBe(calls);
      if (answer === 503) expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    });
  });

  describe('on an older Cartesia-Version, whose errors are plain text', () => {
    it('cannot tell a concurrency_limited 429 from any other, so retries it like one', async () => {
      t = await buildTestApp({ env: { CARTESIA_VERSION: '2025-04-16' } });
      t.sim.inject({ route: 'cartesia.mint', status: 429, errorCode: 'concurrency_limited', times: 0 });
      const res = await createSupport(t);
      expectProblem(res, 503, 'upstream-unavailable');
      expect(cartesiaCalls(t)).toBe(3);
    });
  });
});
