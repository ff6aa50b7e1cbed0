import { createHttpServer } from '../../src/http/http-server';
import { expectProblem, useTestApp } from '../helpers/build-test-app';
import { exchangeOverSocket, type SocketAnswer } from '../helpers/raw-socket';
import { listenOn, type Listening } from '../helpers/serve';

/** Appears in every bad request; no answer or log line may carry it back. */
const marker = 'ZZ_MARKER_5c1d';

describe("Node's own early answers (before a request reaches the app)", () => {
  const t = useTestApp();
  let server: Listening;
  beforeEach(async () => {
    server = await listenOn(
      createHttpServer(t.broker.app, {
        logger: t.broker.logger,
        headersTimeoutMs: 300,
        requestTimeoutMs: 600,
        checkIntervalMs: 100,
      }),
    );
  });
  afterEach(() => server.close());

  function expectEarlyProblem(res: SocketAnswer, status: number, code: string, requestId?: string): void {
    expectProblem(res, status, code);
    expect(res.headers.connection).toBe('close');
    expect(res.headers['x-request-id']).toEqual(requestId ?? expect.stringMatching(/^[0-9a-f-]{36}$/));
    expect(res.raw).not.toContain(marker);
    const line = t.logs.lines().find((entry) => entry.code === code);
    expect(line).toMatchObject({ level: 'warn', req: { id: res.headers['x-request-id'] } });
    expect(t.logs.text).not.toContain(marker);
    expect(t.logs.text).not.toMatch(/"stack"|\bat \S+ \(/);
    expect(t.sim.ledger().calls).toHaveLength(0);
  }

  it.each([
    ['a request line that is not HTTP', `${marker} / HTTP/1.1\r\nHost: x\r\n\r\n`],
    ['a header line without a colon', `GET /healthz HTTP/1.1\r\nHost: x\r\n${marker}\r\n\r\n`],
    [
      'both Content-Length and Transfer-Encoding',
      `POST /session HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\nX-M: ${marker}\r\n\r\n{}`,
    ],
  ])('(%s) answers 400 invalid-request as problem+json with X-Request-Id', async (_name, payload) => {
    expectEarlyProblem(await exchangeOverSocket(server.port, payload), 400, 'invalid-request');
  });

  it('(headers over 16 KiB) answers 431 request-header-fields-too-large as problem+json with X-Request-Id', async () => {
    const payload = `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${marker.repeat(2000)}\r\n\r\n`;
    expectEarlyProblem(
      await exchangeOverSocket(server.port, payload),
      431,
      'request-header-fields-too-large',
    );
  });

  it('(headers that never end) answers 408 request-timeout as problem+json with X-Request-Id', async () => {
    const payload = `GET /healthz HTTP/1.1\r\nHost: x\r\nX-M: ${marker}\r\n`;
    expectEarlyProblem(await exchangeOverSocket(server.port, payload), 408, 'request-timeout');
  });

  it('(a body that never ends) answers 408 request-timeout as problem+json with the request’s X-Request-Id', async () => {
    const head = [
      'POST /session HTTP/1.1',
      'Host: x',
      `Authorization: ${await t.bearer('alice')}`,
      'Content-Type: application/json',
      'Content-Length: 100',
      'X-Request-Id: lb-req-42',
    ].join('\r\n');
    const res = await exchangeOverSocket(server.port, `${head}\r\n\r\n{"profile":"${marker}`);
    expectEarlyProblem(res, 408, 'request-timeout', 'lb-req-42');
  });
});
