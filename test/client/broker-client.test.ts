import { createBrokerClient, type BrokerClient } from '../../packages/client/src';
import { signToken } from '../fixtures/tokens';
import { useTestApp } from '../helpers/build-test-app';
import { caughtBrokerError } from '../helpers/caught';
import { listenOn, type Listening } from '../helpers/serve';

describe('createBrokerClient', () => {
  describe('against the real broker on the simulator', () => {
    const t = useTestApp({ env: { SESSION_LIMIT_POLICY: 'reject' } });
    let broker: Listening;
    let client: BrokerClient;
    const clientFor = (user: string, url: string) =>
      createBrokerClient({ baseUrl: `${url}/`, getToken: async () => signToken({ sub: user }) });

    beforeEach(async () => {
      broker = await listenOn(t.broker.app);
      client = clientFor('alice', broker.url);
    });
    afterEach(() => broker.close());

    it('creates a session and returns its id, token and expiry as a Date', async () => {
      const before = Date.now();
      const session = await client.createSession();
      expect(session.expiresAt).toBeInstanceOf(Date);
      expect(session.expiresAt.getTime()).toBeGreaterThanOrEqual(before + 900_000);
      const upstream = t.sim.ledger().sessions;
      expect(upstream).toHaveLength(1);
      expect(upstream[0]).toMatchObject({
        sessionId: session.sessionId,
        token: session.token,
        state: 'live',
      });
    });

    it('sends the Idempotency-Key, so a retried click collects the same session, marked replayed', async () => {
      const first = await client.createSession({ idempotencyKey: 'click-1' });
      const again = await client.createSession({ idempotencyKey: 'click-1' });
      expect(first.replayed).toBe(false);
      expect(again).toEqual({ ...first, replayed: true });
      expect(t.sim.ledger().sessions).toHaveLength(1);
    });

    it('lists the caller’s sessions with their profile and times', async () => {
      const created = await client.createSession({ profile: 'support' });
      const sessions = await client.listSessions();
      expect(sessions).toEqual([
        {
          sessionId: created.sessionId,
          profile: 'support',
          createdAt: expect.any(Date),
          expiresAt: created.expiresAt,
        },
      ]);
    });

    it('ends a session (true), then answers false for it instead of throwing at logout', async () => {
      const { sessionId } = await client.createSession();
      await expect(client.endSession(sessionId)).resolves.toBe(true);
      expect(t.sim.ledger().sessions[0]).toMatchObject({ sessionId, state: 'ended', endedBy: 'delete' });
      await expect(client.endSession(sessionId)).resolves.toBe(false);
    });

    it('turns a concurrency cap into session-limit with a readable message and its Retry-After', async () => {
      await client.createSession();
      const err = await caughtBrokerError(client.createSession());
      expect(err).toMatchObject({
        status: 429,
        code: 'session-limit',
        retryAfterSeconds: 5,
        retryable: true,
      });
      expect(err.message).toBe(
        'You already have an avatar running, or all avatars are busy. Try again in 5 s.',
      );
      expect(err.requestId).toEqual(expect.any(String));
      expect(err.detail).toEqual(expect.any(String));
    });

    it('reports an unavailable upstream as upstream-unavailable (503)', async () => {
      t.sim.inject({ route: 'avaturn.create', status: 503, times: 0 });
      const err = await caughtBrokerError(client.createSession());
      expect(err).toMatchObject({ status: 503, code: 'upstream-unavailable', retryable: true });
      expect(err.message).toMatch(/^The avatar service is unavailable right now\. Try again in /);
    });

    it('reports a rejected token as unauthenticated, not retryable', async () => {
      const stranger = createBrokerClient({ baseUrl: broker.url, getToken: () => 'a.b.c' });
      const err = await caughtBrokerError(stranger.listSessions());
      expect(err).toMatchObject({ status: 401, code: 'unauthenticated', retryable: false });
      expect(err.message).toBe('Your sign-in has expired. Please sign in again.');
    });

    it('reports an unknown profile as a caller mistake', async () => {
      const err = await caughtBrokerError(client.createSession({ profile: 'nope' }));
      expect(err).toMatchObject({ status: 400, code: 'unknown-profile', retryable: false });
    });
  });

  describe('when the answer is not the broker’s', () => {
    it('reports an unreachable broker as network-error with status 0', async () => {
      const { close, url } = await listenOn(() => undefined);
      await close();
      const client = createBrokerClient({ baseUrl: url, getToken: () => 'x.y.z' });
      const err = await caughtBrokerError(client.createSession());
      expect(err).toMatchObject({ status: 0, code: 'network-error', retryable: true });
      expect(err.message).toBe(
        'The avatar service could not be reached. Check your connection. Try again in a moment.',
      );
    });

    it('reports a proxy’s HTML error page as unexpected-response, keeping its status and Retry-After date', async () => {
      const { close, url } = await listenOn((_req, res) => {
        res.writeHead(502, {
          'Content-Type': 'text/html',
          'Retry-After': new Date(Date.now() + 120_000).toUTCString(),
        });
        res.end('<h1>Bad gateway</h1>');
      });
      try {
        const client = createBrokerClient({ baseUrl: url, getToken: () => 'x.y.z' });
        const err = await caughtBrokerError(client.endSession('abc'));
        expect(err).toMatchObject({ status: 502, code: 'unexpected-response', detail: undefined });
        expect(err.retryAfterSeconds).toBeGreaterThanOrEqual(119);
        expect(err.message).toMatch(
          /^The avatar service answered something unexpected\. Try again in 2 min\.$/,
        );
      } finally {
        await close();
      }
    });

    it('reports a 201 without the promised fields as unexpected-response', async () => {
      const { close, url } = await listenOn((_req, res) => {
        res.writeHead(201, { 'Content-Type': 'application/json', 'X-Request-Id': 'req-1' });
        res.end('{"session_id":"s1"}');
      });
      try {
        const client = createBrokerClient({ baseUrl: url, getToken: () => 'x.y.z' });
        const err = await caughtBrokerError(client.createSession());
        expect(err).toMatchObject({ status: 201, code: 'unexpected-response', requestId: 'req-1' });
      } finally {
        await close();
      }
    });

    it('sends the token from getToken, the JSON body and the key, and uses the given fetch', async () => {
      const seen: { method: string; url: string; headers: Record<string, string>; body: string }[] = [];
      const fakeFetch: typeof fetch = async (input, init) => {
        seen.push({
          method: init?.method ?? 'GET',
          url: String(input),
          headers: init?.headers as Record<string, string>,
          body: String(init?.body),
        });
        return new Response(
          JSON.stringify({ session_id: 's1', token: 't1', expires_at: '2026-01-01T00:00:00.000Z' }),
          {
            status: 201,
            headers: { 'Content-Type': 'application/json' },
          },
        );
      };
      const client = createBrokerClient({
        baseUrl: 'https://broker.test/api//',
        getToken: () => 'jwt',
        fetch: fakeFetch,
      });
      await expect(client.createSession({ profile: 'p', idempotencyKey: 'k' })).resolves.toEqual({
        sessionId: 's1',
        token: 't1',
        expiresAt: new Date('2026-01-01T00:00:00.000Z'),
        replayed: false,
      });
      expect(seen).toEqual([
        {
          method: 'POST',
          url: 'https://broker.test/api/session',
          headers: expect.objectContaining({
            Authorization: 'Bearer jwt',
            'Content-Type': 'application/json',
            'Idempotency-Key': 'k',
          }),
          body: '{"profile":"p"}',
        },
      ]);
    });
  });
});
