import type { ReplyFault } from '../helpers/tcp-proxy';
import type { TestApp } from '../helpers/build-test-app';
import { buildWorld, expectAccountedFor, type World } from '../helpers/world';

/** Bytes only the reserve script's arguments hold (its policy), and only the commit's (the record). */
const reserveCommand = 'replace-oldest';
const commitCommand = '"sessionId"';

/** What can happen to a reply: late past the command timeout, or lost with its connection. */
const replyFaults = [
  ['slower than the command timeout', { action: 'delay', ms: 1_300 }],
  ['lost with the connection', { action: 'cut' }],
] as const;

async function create(t: TestApp, user = 'alice') {
  return t.http
    .post('/session')
    .set('Authorization', await t.bearer(user))
    .send({});
}

async function listed(t: TestApp, user = 'alice'): Promise<string[]> {
  const res = await t.http.get('/sessions').set('Authorization', await t.bearer(user));
  if (res.status !== 200) throw new Error(JSON.stringify(res.body));
  return res.body.sessions.map((s: { session_id: string }) => s.session_id);
}

describe('Redis replies lost or late during a create (through a relay)', () => {
  let world: World;
  let t: TestApp;
  beforeEach(async () => {
    world = await buildWorld('redis', {
      env: { MAX_SESSIONS_PER_USER: '1', SESSION_LIMIT_POLICY: 'replace-oldest' },
    });
    t = world.t;
  });
  afterEach(() => world.dispose());

  function arm(fault: ReplyFault): void {
    world.proxy!.faultNext(fault);
  }

  describe.each(replyFaults)('when the reserve reply is %s', (_name, fault) => {
    it('retries the same reservation, ends the replaced session, and answers 201 with the new one listed', async () => {
      const old = await create(t);
      expect(old.status).toBe(201);
      arm({ match: reserveCommand, ...fault });

      const res = await create(t);
      expect(world.proxy!.fired).toBe(1);
      expect(res.status).toBe(201);
      expect(t.sim.liveSessions().map((s) => s.sessionId)).toEqual([res.body.session_id]);
      expect(await listed(t)).toEqual([res.body.session_id]);
      await expectAccountedFor(t, 1);
      expect((await create(t)).status).toBe(201);
    });
  });

  describe.each(replyFaults)('when the commit reply is %s', (_name, fault) => {
    it('retries the same commit and answers 201, with no ghost and no orphan', async () => {
      arm({ match: commitCommand, ...fault });
      const res = await create(t);
      expect(world.proxy!.fired).toBe(1);
      expect(res.status).toBe(201);
      expect(t.sim.liveSessions().map((s) => s.sessionId)).toEqual([res.body.session_id]);
      expect(await listed(t)).toEqual([res.body.session_id]);
      await expectAccountedFor(t, 1);
    });
  });

  describe('when Redis is away for longer than the retries after Avaturn created the session', () => {
    it('answers 503 not-ready, ends the session upstream, and leaves no ghost once Redis is back', async () => {
      arm({ match: commitCommand, action: 'cut' });
      const cutting = (async () => {
        // Keep Redis away until the create has given up on it.
        while (world.proxy!.fired === 0) await new Promise((resolve) => setTimeout(resolve, 2));
        await world.proxy!.cut();
      })();
      const res = await create(t);
      await cutting;
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('not-ready');
      await world.proxy!.restore();
      await expectAccountedFor(t, 1);
      expect(t.sim.liveSessions()).toEqual([]);
      expect(await listed(t)).toEqual([]);
    });
  });
});
