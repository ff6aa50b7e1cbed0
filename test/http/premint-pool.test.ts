import { startSimulator, type SimLedger } from '../../src/simulator';
import { testProfiles } from '../fixtures/profiles';
import { buildTestApp, expectProblem, type TestApp } from '../helpers/build-test-app';
import { fakeClock } from '../helpers/fake-clock';

/** SESSION_CREATE_DEADLINE_MS (default 10 s) plus the profile's user_absent_timeout (60 s). */
const marginMs = 70_000;
const openAiTtlMs = 600_000;

async function create(t: TestApp, user: string, profile?: string) {
  return t.http
    .post('/session')
    .set('Authorization', await t.bearer(user))
    .send(profile === undefined ? {} : { profile });
}

async function metric(t: TestApp, name: string, profile = 'default'): Promise<number> {
  const text = (await t.http.get('/metrics')).text;
  const line = text.split('\n').find((l) => l.startsWith(`${name}{profile="${profile}"`));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

/** The credential each session was created with, by session id. */
function credentialOf(ledger: SimLedger) {
  const bySession = new Map<string, SimLedger['credentials'][number]>();
  for (const credential of ledger.credentials) {
    for (const sessionId of credential.usedBy) bySession.set(sessionId, credential);
  }
  return bySession;
}

describe('pre-minted credentials (PREMINT_POOL_SIZE)', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  describe('when the pool is off (the default)', () => {
    it('mints nothing ahead: the first credential is minted by the first create', async () => {
      t = await buildTestApp();
      expect(t.broker.premint).toBeUndefined();
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(t.sim.ledger().credentials).toEqual([]);

      const res = await create(t, 'alice');
      expect(res.status).toBe(201);
      const ledger = t.sim.ledger();
      expect(ledger.credentials).toHaveLength(1);
      expect(ledger.credentials[0]!.usedBy).toEqual([res.body.session_id]);
    });
  });

  describe('when the pool is on', () => {
    it('keeps that many credentials per profile and engine, hands each out once, and refills after use', async () => {
      t = await buildTestApp({ env: { PREMINT_POOL_SIZE: '3' } });
      await t.broker.premint!.whenIdle();
      const before = t.sim.ledger().credentials;
      expect(before.filter((c) => c.kind === 'openai-client-secret')).toHaveLength(3);
      expect(before.filter((c) => c.kind === 'cartesia-access-token')).toHaveLength(3);
      expect(before.every((c) => c.usedBy.length === 0)).toBe(true);
      expect(await metric(t, 'avaturn_broker_premint_ready')).toBe(3);
      expect(await metric(t, 'avaturn_broker_premint_ready', 'support')).toBe(3);

      const parallel = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((user) => create(t!, user)));
      const sequential = [];
      for (const user of ['f', 'g', 'h', 'i', 'j']) sequential.push(await create(t, user));
      const cartesia = [];
      for (const user of ['k', 'l', 'm', 'n']) cartesia.push(await create(t, user, 'support'));
      const created = [...parallel, ...sequential, ...cartesia];
      expect(created.map((res) => res.status)).toEqual(created.map(() => 201));
      await t.broker.premint!.whenIdle();

      const ledger = t.sim.ledger();
      for (const credential of ledger.credentials) expect(credential.usedBy.length).toBeLessThanOrEqual(1);
      const used = credentialOf(ledger);
      const ids = created.map((res) => res.body.session_id as string);
      expect([...used.keys()].sort()).toEqual([...ids].sort());
      expect(new Set([...used.values()].map((c) => c.value)).size).toBe(ids.length);
      expect(ledger.credentials).toHaveLength(ids.length + 6);
      expect(t.broker.premint!.ready('default')).toBe(3);
      expect(t.broker.premint!.ready('support')).toBe(3);

      const hits = await metric(t, 'avaturn_broker_premint_hits_total');
      const misses = await metric(t, 'avaturn_broker_premint_misses_total');
      expect(hits + misses).toBe(10);
      expect(hits).toBeGreaterThanOrEqual(3);
      expect(
        (await metric(t, 'avaturn_broker_premint_hits_total', 'support')) +
          (await metric(t, 'avaturn_broker_premint_misses_total', 'support')),
      ).toBe(4);
      for (const credential of ledger.credentials) expect(t.logs.text).not.toContain(credential.value);
    });

    it('mints inline when the pool is empty, and aborts the background mint in flight on close', async () => {
      t = await buildTestApp({
        env: { PREMINT_POOL_SIZE: '1' },
        profiles: { default: testProfiles.default },
      });
      const pool = t.broker.premint!;
      await pool.whenIdle();
      const [pooled] = t.sim.ledger().credentials;
      // The refill after the first create hangs, so the second create finds the pool empty.
      t.sim.inject({ route: 'openai.mint', hang: true });

      const first = await create(t, 'alice');
      const second = await create(t, 'bob');
      expect([first.status, second.status]).toEqual([201, 201]);
      const ledger = t.sim.ledger();
      const used = credentialOf(ledger);
      expect(used.get(first.body.session_id)?.value).toBe(pooled!.value);
      expect(used.get(second.body.session_id)?.value).not.toBe(pooled!.value);
      expect(ledger.calls.filter((c) => c.route === 'openai.mint' && c.status === null)).toHaveLength(1);
      expect(await metric(t, 'avaturn_broker_premint_hits_total')).toBe(1);
      expect(await metric(t, 'avaturn_broker_premint_misses_total')).toBe(1);

      const profile = t.broker.service.assertProfile('default');
      const inline = await pool.minters['openai-realtime']!.mint(profile, { userId: 'carol' });
      expect(pool.wasPreMinted(inline)).toBe(false);

      await t.broker.close();
      expect(pool.ready('default')).toBe(0);
      expect(await metric(t, 'avaturn_broker_premint_ready')).toBe(0);
    });

    it('never hands out a credential within the safety margin of its expiry, and replaces expired ones', async () => {
      const clock = fakeClock();
      const sim = await startSimulator({ clock: clock.now });
      try {
        t = await buildTestApp({
          simulator: sim,
          env: { PREMINT_POOL_SIZE: '2' },
          profiles: { default: testProfiles.default },
          deps: { clock: clock.now },
        });
        await t.broker.premint!.whenIdle();
        const usableUntil = clock.start + openAiTtlMs - marginMs;

        clock.set(usableUntil - 1);
        const last = await create(t, 'alice');
        await t.broker.premint!.whenIdle();
        clock.set(usableUntil);
        const afterMargin = await create(t, 'bob');
        expect([last.status, afterMargin.status]).toEqual([201, 201]);
        await t.broker.premint!.whenIdle();
        let ledger = t.sim.ledger();
        let used = credentialOf(ledger);
        expect(used.get(last.body.session_id)?.createdAt).toBe(clock.start);
        // The second pooled one reached its margin unused; bob got the refill minted for alice's.
        expect(
          ledger.credentials.filter((c) => c.createdAt === clock.start && c.usedBy.length === 0),
        ).toHaveLength(1);
        expect(used.get(afterMargin.body.session_id)?.createdAt).toBe(usableUntil - 1);
        expect(await metric(t, 'avaturn_broker_premint_discards_total')).toBe(1);

        const later = usableUntil + openAiTtlMs;
        clock.set(later);
        const expired = await create(t, 'carol');
        expect(expired.status).toBe(201);
        await t.broker.premint!.whenIdle();
        ledger = t.sim.ledger();
        used = credentialOf(ledger);
        expect(used.get(expired.body.session_id)?.createdAt).toBe(later);
        expect(ledger.credentials.filter((c) => c.createdAt === later)).toHaveLength(3);
        expect(t.broker.premint!.ready('default')).toBe(2);
        expect(await metric(t, 'avaturn_broker_premint_discards_total')).toBe(3);
        expect(await metric(t, 'avaturn_broker_premint_misses_total')).toBe(1);

        for (const session of ledger.sessions) {
          const credential = used.get(session.sessionId)!;
          expect(credential.expiresAt - session.createdAt).toBeGreaterThanOrEqual(marginMs);
        }
      } finally {
        await t?.close();
        t = undefined;
        await sim.close();
      }
    });

    it('backs off when refilling fails instead of spinning, and refills once the upstream recovers', async () => {
      const clock = fakeClock();
      const sim = await startSimulator({ clock: clock.now });
      const mintCalls = () => sim.ledger().calls.filter((c) => c.route === 'openai.mint').length;
      try {
        sim.inject({ route: 'openai.mint', status: 500, times: 0 });
        t = await buildTestApp({
          simulator: sim,
          env: { PREMINT_POOL_SIZE: '2' },
          profiles: { default: testProfiles.default },
          deps: {
            clock: clock.now,
            upstreamOptions: {
              retry: { maxRetries: 0, baseDelayMs: 1, maxDelayMs: 1 },
              circuit: { volumeThreshold: 1000 },
            },
          },
        });
        await t.broker.premint!.whenIdle();
        expect(mintCalls()).toBe(2);
        expect(await metric(t, 'avaturn_broker_premint_refill_failures_total')).toBe(2);

        for (const user of ['alice', 'bob', 'carol']) {
          expectProblem(await create(t, user), 503, 'upstream-unavailable');
          await t.broker.premint!.whenIdle();
        }
        // Only the three inline mints: no background mint while the pool backs off.
        expect(mintCalls()).toBe(5);
        expect(await metric(t, 'avaturn_broker_premint_refill_failures_total')).toBe(2);
        expect(await metric(t, 'avaturn_broker_premint_misses_total')).toBe(3);
        expect(t.logs.lines().filter((line) => line.msg === 'pre-minting failed; backing off')).toHaveLength(
          2,
        );

        sim.clearFaults();
        clock.set(clock.start + 60_000);
        expect((await create(t, 'dave')).status).toBe(201);
        await t.broker.premint!.whenIdle();
        expect(t.broker.premint!.ready('default')).toBe(2);
        expect(mintCalls()).toBe(8);
      } finally {
        await t?.close();
        t = undefined;
        await sim.close();
      }
    });
  });
});
