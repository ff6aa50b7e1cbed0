import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { brokerEnvFor, startSimulator, type Simulator } from '../../src/simulator';
import { signToken, testJwtSecret } from '../helpers/build-test-app';

const root = resolve(__dirname, '../..');
const tsx = resolve(root, 'node_modules/.bin/tsx');

interface Broker {
  child: ChildProcess;
  url: string;
  exited: Promise<{ code: number | null; at: number }>;
  stderr: () => string;
}

function startBroker(env: Record<string, string>): Promise<Broker> {
  const child = spawn(tsx, ['src/server.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; at: number }>((done) =>
    child.on('exit', (code) => done({ code, at: Date.now() })),
  );
  return new Promise((ready, fail) => {
    child.stdout!.on('data', (chunk) => {
      stdout += chunk;
      const match = /"url":"([^"]+)"/.exec(stdout);
      if (match) ready({ child, url: match[1]!, exited, stderr: () => stderr });
    });
    void exited.then(({ code }) => fail(new Error(`broker exited early with ${code}: ${stderr}`)));
  });
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
      const broker = await startBroker({ ...env(), SHUTDOWN_DRAIN_MS: '800' });
      expect((await fetch(`${broker.url}/readyz`)).status).toBe(200);
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

    it('exits at once on a second signal', async () => {
      const broker = await startBroker({ ...env(), SHUTDOWN_DRAIN_MS: '30000' });
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
      const child = spawn(tsx, ['src/server.ts'], {
        cwd: root,
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
