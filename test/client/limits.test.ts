import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { createBrokerClient, formatSeconds } from '../../packages/client/src';
import { caughtBrokerError } from '../helpers/caught';
import { listenOn, type Listening } from '../helpers/serve';

interface Seen {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingHttpHeaders;
}

/** A broker stand-in on 127.0.0.1 that answers every request with `answer` and keeps what it saw. */
async function fakeBroker(answer: (res: ServerResponse) => void): Promise<Listening & { seen: Seen[] }> {
  const seen: Seen[] = [];
  const listening = await listenOn((req, res) => {
    seen.push({ method: req.method, url: req.url, headers: req.headers });
    answer(res);
  });
  return { ...listening, seen };
}

function json(status: number, body: unknown, headers: Record<string, string> = {}) {
  return (res: ServerResponse) => {
    const type = status >= 400 ? 'application/problem+json' : 'application/json';
    res.writeHead(status, { 'Content-Type': type, ...headers }).end(JSON.stringify(body));
  };
}

const servers: Listening[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function clientOn(answer: (res: ServerResponse) => void) {
  const broker = await fakeBroker(answer);
  servers.push(broker);
  return { broker, client: createBrokerClient({ baseUrl: broker.url, getToken: () => 'jwt-of-alice' }) };
}

describe('getLimits', () => {
  it('asks GET /me/limits with the caller’s token and reads budgets into numbers and Dates', async () => {
    const { broker, client } = await clientOn(
      json(200, {
        sessions: { live: 1, max: 1 },
        budgets: [
          {
            scope: 'user',
            window: 'day',
            minutes: 30,
            used_minutes: 12.5,
            left_minutes: 17.5,
            resets_at: '2026-12-07T00:00:00.000Z',
          },
          {
            scope: 'tenant',
            window: 'month',
            minutes: 6000,
            used_minutes: 6000,
            left_minutes: 0,
            resets_at: '2027-01-01T00:00:00.000Z',
          },
        ],
      }),
    );

    await expect(client.getLimits()).resolves.toEqual({
      sessions: { live: 1, max: 1 },
      budgets: [
        {
          scope: 'user',
          window: 'day',
          minutes: 30,
          usedMinutes: 12.5,
          leftMinutes: 17.5,
          resetsAt: new Date('2026-12-07T00:00:00.000Z'),
        },
        {
          scope: 'tenant',
          window: 'month',
          minutes: 6000,
          usedMinutes: 6000,
          leftMinutes: 0,
          resetsAt: new Date('2027-01-01T00:00:00.000Z'),
        },
      ],
    });
    expect(broker.seen).toEqual([
      expect.objectContaining({
        method: 'GET',
        url: '/me/limits',
        headers: expect.objectContaining({ authorization: 'Bearer jwt-of-alice' }),
      }),
    ]);
  });

  it('on a broker with no budgets set › answers an empty list beside the session cap', async () => {
    const { client } = await clientOn(json(200, { sessions: { live: 0, max: 2 }, budgets: [] }));

    await expect(client.getLimits()).resolves.toEqual({ sessions: { live: 0, max: 2 }, budgets: [] });
  });

  it.each([
    [
      'a budget without resets_at',
      { scope: 'user', window: 'day', minutes: 5, used_minutes: 1, left_minutes: 4 },
    ],
    [
      'a scope it does not know',
      {
        scope: 'everyone',
        window: 'day',
        minutes: 5,
        used_minutes: 1,
        left_minutes: 4,
        resets_at: '2026-12-07T00:00:00Z',
      },
    ],
    [
      'minutes as a string',
      {
        scope: 'user',
        window: 'day',
        minutes: '5',
        used_minutes: 1,
        left_minutes: 4,
        resets_at: '2026-12-07T00:00:00Z',
      },
    ],
  ])('with %s › throws unexpected-response', async (_name, budget) => {
    const { client } = await clientOn(json(200, { sessions: { live: 0, max: 1 }, budgets: [budget] }));

    const err = await caughtBrokerError(client.getLimits());

    expect(err).toMatchObject({ status: 200, code: 'unexpected-response' });
  });

  it('on a broker without the route (404) › throws not-found, so a page can show nothing', async () => {
    const { client } = await clientOn(
      json(404, {
        type: '/problems/not-found',
        title: 'Not found',
        status: 404,
        code: 'not-found',
        detail: 'No route.',
        request_id: 'r1',
      }),
    );

    const err = await caughtBrokerError(client.getLimits());

    expect(err).toMatchObject({ status: 404, code: 'not-found', requestId: 'r1' });
  });
});

describe('a create refused for its minute budget', () => {
  const exhausted = (scope: string, window: string, retryAfter: string) =>
    json(
      429,
      {
        type: '/problems/budget-exhausted',
        title: 'Minute budget exhausted',
        status: 429,
        code: 'budget-exhausted',
        detail: 'Less than 60 s of the budget is left.',
        request_id: 'req-9',
        scope,
        window,
      },
      { 'Retry-After': retryAfter },
    );

  it.each([
    ['user', 'day', '11520', 'You have used today’s avatar minutes. Try again in 3 h 12 min.'],
    ['user', 'month', '1036800', 'You have used this month’s avatar minutes. Try again in 12 days.'],
    ['tenant', 'day', '3600', 'Your organisation has used today’s avatar minutes. Try again in 60 min.'],
    ['service', 'day', '45', 'The avatar service has used all of today’s minutes. Try again in 45 s.'],
  ])(
    'of the %s per %s › is budget-exhausted with its scope, window, Retry-After and a sentence',
    async (scope, window, retryAfter, message) => {
      const { client } = await clientOn(exhausted(scope, window, retryAfter));

      const err = await caughtBrokerError(client.createSession());

      expect(err).toMatchObject({
        status: 429,
        code: 'budget-exhausted',
        scope,
        window,
        retryAfterSeconds: Number(retryAfter),
        requestId: 'req-9',
        retryable: true,
      });
      expect(err.message).toBe(message);
    },
  );

  it('with members it does not know › keeps the code and a general sentence, and no scope', async () => {
    const { client } = await clientOn(exhausted('galaxy', 'year', '120'));

    const err = await caughtBrokerError(client.createSession());

    expect(err).toMatchObject({ code: 'budget-exhausted', scope: undefined, window: undefined });
    expect(err.message).toBe('You have used up your avatar minutes for now. Try again in 2 min.');
  });
});

describe('a token refused for what it may do', () => {
  it('is forbidden (403), not retryable, in words', async () => {
    const { client } = await clientOn(
      json(403, {
        type: '/problems/forbidden',
        title: 'Forbidden',
        status: 403,
        code: 'forbidden',
        detail: 'No tenant.',
        request_id: 'r2',
      }),
    );

    const err = await caughtBrokerError(client.createSession());

    expect(err).toMatchObject({ status: 403, code: 'forbidden', retryable: false });
    expect(err.message).toBe('This is not allowed for your account.');
  });
});

describe('formatSeconds', () => {
  it.each([
    [0, '0 s'],
    [89, '89 s'],
    [90, '2 min'],
    [5340, '89 min'],
    [5400, '1 h 30 min'],
    [7200, '2 h'],
    [11520, '3 h 12 min'],
    [172_740, '47 h 59 min'],
    [172_800, '2 days'],
    [1_036_800, '12 days'],
  ])('%i s reads as %s', (seconds, text) => {
    expect(formatSeconds(seconds)).toBe(text);
  });
});
