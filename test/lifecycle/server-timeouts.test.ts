import { connect } from 'node:net';
import { createHttpServer, serverTimeouts } from '../../src/http/http-server';
import { useTestApp } from '../helpers/build-test-app';
import { listenOn } from '../helpers/serve';

describe('the HTTP server', () => {
  const t = useTestApp();

  it('keeps idle connections longer than a typical load balancer (60 s) and bounds headers and requests', () => {
    const server = createHttpServer(t.broker.app, { logger: t.broker.logger });
    expect(server.keepAliveTimeout).toBeGreaterThan(60_000);
    expect(server.headersTimeout).toBe(serverTimeouts.headersTimeoutMs);
    expect(server.requestTimeout).toBe(serverTimeouts.requestTimeoutMs);
    expect(server.headersTimeout).toBeLessThan(server.requestTimeout);
  });

  it('cuts off a client that trickles its headers', async () => {
    const server = await listenOn(
      createHttpServer(t.broker.app, {
        logger: t.broker.logger,
        headersTimeoutMs: 400,
        requestTimeoutMs: 800,
        checkIntervalMs: 100,
      }),
    );
    try {
      const socket = connect(server.port, '127.0.0.1');
      let received = '';
      socket.on('data', (chunk) => (received += chunk.toString()));
      const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now())));
      socket.on('error', () => undefined);
      const started = Date.now();
      socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
      const trickle = setInterval(() => socket.writable && socket.write('X-Slow: a\r\n'), 100);
      const closedAt = await closed;
      clearInterval(trickle);
      expect(closedAt - started).toBeLessThan(3000);
      expect(received).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      await server.close();
    }
  });
});
