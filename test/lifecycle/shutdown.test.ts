import { spawn } from 'node:child_process';
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';
import { brokerEnvFor, startSimulator, type Simulator } from '../../src/simulator';
import { signToken, testJwtSecret } from '../fixtures/tokens';
import { repoRoot, startBrokerProcess, tsxBin } from '../helpers/broker-process';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  socket: Socket;
}

/** A request through `agent`, so that its socket is kept alive and reused as a browser's would be. */
function send(agent: Agent, url: string, method: string, headers: Record<string, string> = {}) {
  return new Promise<Answer>((resolve, reject) => {
    const req = request(url, { method, agent, headers }, (res) => {
      res.resume();
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, socket: req.socket! }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 20));
}

describe('the broker process', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator();
  });
  afterAll(async () => {
    await sim.close();
  });

  const env = () => ({ ...brokerEnvFor(sim), AUTH_JWT_SECRET: testJwtSecret });

  describe('on SIGTERM', () => {
    it('turns readiness 503 at once, finishes in-flight requests, stops accepting after the drain delay and exits 0', async () => {
      const broker = await startBrokerProcess({ ...env(), SHUTDOWN_DRAIN_MS: '800' });
      // Not on fetch's pooled sockets: the drain closes idle ones, and a later fetch could pick one
      // up in the moment it closes (ECONNRESET) rather than open its own.
      expect((await send(new Agent(), `${broker.url}/readyz`, 'GET')).status).toBe(200);
      sim.inject({ route: 'avaturn.create', latencyMs: 600 });
      const inFlight = fetch(`${broker.url}/session`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await signToken({ sub: 'alice' })}` },
      });
      await new Promise((r) => setTimeout(r, 150));
      const signalledAt = Date.now();
      broker.child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 100));

      const ready = await fetch(`${broker.url}/readyz`);
      expect(ready.status).toBe(503);
      expect((await ready.json()).code).toBe('not-ready');
      expect((await fetch(`${broker.url}/healthz`)).status).toBe(200);

      const created = await inFlight;
      expect(created.status).toBe(201);

      const { code, at } = await broker.exited;
      expect(code).toBe(0);
      expect(at - signalledAt).toBeGreaterThanOrEqual(800);
      expect(at - signalledAt).toBeLessThan(8000);
      await expect(fetch(`${broker.url}/healthz`)).rejects.toThrow();
      expect(sim.liveSessions()).toHaveLength(1);
    });

    it('with keep-alive clients and a preconnected socket › closes idle sockets at once, answers in-flight requests with Connection: close, and exits 0 soon after the drain', async () => {
      // Long enough that the test's own requests fit inside the drain on a busy machine.
      const drainMs = 2_000;
      const broker = await startBrokerProcess({ ...env(), SHUTDOWN_DRAIN_MS: String(drainMs) });
      // One client holds idle keep-alive sockets, another has a request in flight on its own.
      const agent = new Agent({ keepAlive: true, maxSockets: 8 });
      const busyAgent = new Agent({ keepAlive: true });
      const events: string[] = [];
      let preconnected: Socket | undefined;
      try {
        const warm = await Promise.all([1, 2, 3].map(() => send(agent, `${broker.url}/healthz`, 'GET')));
        const idle = new Set(warm.map((answer) => answer.socket));
        expect(warm.map((answer) => answer.headers.connection)).toEqual(Array(3).fill('keep-alive'));
        let idleOpen = idle.size;
        for (const socket of idle)
          socket.on('close', () => events.push(`idle socket closed (${--idleOpen} open)`));

        // A browser's preconnect: a socket that has not sent a request yet.
        preconnected = connect(Number(new URL(broker.url).port), '127.0.0.1').on('error', () => undefined);
        await new Promise((resolve) => preconnected!.once('connect', resolve));

        // Still being created when the drain is over, so it is answered after the server stopped accepting.
        sim.inject({ route: 'avaturn.create', latencyMs: drainMs + 1200 });
        const inFlight = send(busyAgent, `${broker.url}/session`, 'POST', {
          authorization: `Bearer ${await signToken({ sub: 'alice' })}`,
        }).then((answer) => {
          events.push('in-flight answered');
          return answer;
        });
        await until(() => sim.ledger().calls.some((call) => call.route === 'avaturn.create'));
        const signalledAt = Date.now();
        broker.child.kill('SIGTERM');

        await until(() => idleOpen === 0);
        const duringDrain = await send(agent, `${broker.url}/readyz`, 'GET');
        expect(duringDrain.status).toBe(503);
        expect(duringDrain.headers.connection).toBe('close');

        const created = await inFlight;
        expect(created.status).toBe(201);
        expect(created.headers.connection).toBe('close');
        expect(events.indexOf('in-flight answered')).toBe(events.length - 1);

        const { code, at } = await broker.exited;
        expect(code).toBe(0);
        expect(at - signalledAt).toBeLessThan(drainMs + 5000);
      } finally {
        agent.destroy();
        busyAgent.destroy();
        preconnected?.destroy();
        broker.child.kill('SIGKILL');
      }
    }, 30_000);

    it('exits at once on a second signal', async () => {
      const broker = await startBrokerProcess({ ...env(), SHUTDOWN_DRAIN_MS: '30000' });
      broker.child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 200));
      const secondAt = Date.now();
      broker.child.kill('SIGTERM');
      const { code, at } = await broker.exited;
      expect(code).not.toBe(0);
      expect(at - secondAt).toBeLessThan(2000);
    });
  });

  describe('with missing or invalid configuration', () => {
    it('exits non-zero naming every bad variable and printing no value', async () => {
      const child = spawn(tsxBin, ['src/server.ts'], {
        cwd: repoRoot,
        env: {
          PATH: process.env.PATH,
          AUTH_JWT_SECRET: 'short-secret-value',
          OPENAI_API_KEY: 'sk-visible-if-leaked',
          PORT: 'eighty',
          TRUST_PROXY: 'true',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout!.on('data', (chunk) => (output += chunk));
      child.stderr!.on('data', (chunk) => (output += chunk));
      const code = await new Promise<number | null>((done) => child.on('exit', done));
      expect(code).not.toBe(0);
      for (const name of ['AVATURN_API_KEY', 'AUTH_JWT_SECRET', 'PORT', 'TRUST_PROXY'])
        expect(output).toContain(name);
      for (const value of ['short-secret-value', 'sk-visible-if-leaked', 'eighty'])
        expect(output).not.toContain(value);
    });
  });
});
