import { loadConfig } from '../../src/config/load-config';
import { createLogger } from '../../src/logger';
import { startServer, type RunningServer } from '../../src/server';
import { brokerEnvFor, startSimulator, type Simulator } from '../../src/simulator';
import { signToken, testJwtSecret } from '../fixtures/tokens';
import { buildTestApp, expectProblem } from '../helpers/build-test-app';
import { MemoryLog } from '../helpers/memory-log';
import { eventually } from '../helpers/waiting';

const dayMs = 86_400_000;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const startOfDaySeconds = (day: string) => Date.parse(`${day}T00:00:00Z`) / 1000;

interface World {
  sim: Simulator;
  running: RunningServer;
  logs: MemoryLog;
}

/** The real server on a free port, against the simulator, with one profile per model. */
async function startBroker(sim: Simulator, models: Record<string, string>, retryMs = 60_000): Promise<World> {
  const logs = new MemoryLog();
  const profiles = Object.fromEntries(
    Object.entries(models).map(([name, model]) => [name, { engine: { type: 'openai-realtime', model } }]),
  );
  const config = loadConfig(
    {
      ...brokerEnvFor(sim),
      AUTH_JWT_SECRET: testJwtSecret,
      PORT: '0',
      HOST: '127.0.0.1',
      PROFILES_FILE: '/profiles.json',
      SHUTDOWN_DRAIN_MS: '0',
    },
    { readFile: () => JSON.stringify(profiles) },
  );
  const running = await startServer(config, {
    logger: createLogger('info', logs),
    upstreamOptions: { modelCheck: { retryMs } },
  });
  return { sim, running, logs };
}

const modelLines = (logs: MemoryLog, level: 'warn' | 'error') =>
  logs.lines().filter((line) => line.level === level && line.model !== undefined);

async function metricsText(world: World): Promise<string> {
  return (await fetch(`${world.running.url}/metrics`)).text();
}

const gaugeLine = (text: string, model: string) =>
  text
    .split('\n')
    .find((line) =>
      line.startsWith(`avaturn_broker_upstream_model_shutdown_timestamp_seconds{model="${model}"}`),
    );

const modelCalls = (sim: Simulator) => sim.ledger().calls.filter((call) => call.route === 'openai.model');

describe('OpenAI model shutdowns', () => {
  let sim: Simulator;
  let world: World | undefined;
  beforeEach(async () => {
    sim = await startSimulator();
  });
  afterEach(async () => {
    await world?.running.shutdown();
    world = undefined;
    await sim.close();
  });

  describe('a fresh default configuration', () => {
    it('mints its client secret for gpt-realtime-2.1', async () => {
      const t = await buildTestApp({ profiles: null, simulator: sim });
      try {
        const res = await t.http
          .post('/session')
          .set('Authorization', await t.bearer('alice'))
          .send({});
        expect(res.status).toBe(201);
        const [credential] = t.sim.ledger().credentials;
        expect(credential?.request).toMatchObject({
          session: { type: 'realtime', model: 'gpt-realtime-2.1' },
        });
      } finally {
        await t.close();
      }
    });
  });

  describe('when OpenAI gives the model no shutdown date', () => {
    it('asks OpenAI once at start, logs nothing about the model and exports no gauge for it', async () => {
      world = await startBroker(sim, { default: 'gpt-realtime-2.1' });
      await world.running.broker.modelLifecycle!.idle();
      expect(modelCalls(sim)).toEqual([
        expect.objectContaining({ method: 'GET', path: '/v1/models/gpt-realtime-2.1', status: 200 }),
      ]);
      expect([...modelLines(world.logs, 'warn'), ...modelLines(world.logs, 'error')]).toEqual([]);
      expect(gaugeLine(await metricsText(world), 'gpt-realtime-2.1')).toBeUndefined();
    });
  });

  describe('when OpenAI says the model shuts down in 30 days', () => {
    it('warns once per check naming the profiles, the date and the replacement, and exports the date', async () => {
      const in30Days = isoDay(Date.now() + 30 * dayMs);
      sim.setModel('gpt-realtime', in30Days);
      world = await startBroker(sim, {
        default: 'gpt-realtime',
        support: 'gpt-realtime',
        other: 'gpt-realtime-2.1',
      });
      await world.running.broker.modelLifecycle!.idle();

      const warnings = modelLines(world.logs, 'warn');
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({
        model: 'gpt-realtime',
        profiles: ['default', 'support'],
        shutdown_date: in30Days,
        replacement: 'gpt-realtime-2.1',
      });
      expect(String(warnings[0]!.msg)).toContain(in30Days);
      expect(modelLines(world.logs, 'error')).toEqual([]);
      expect(gaugeLine(await metricsText(world), 'gpt-realtime')).toBe(
        `avaturn_broker_upstream_model_shutdown_timestamp_seconds{model="gpt-realtime"} ${startOfDaySeconds(in30Days)}`,
      );
    });

    it('lets OpenAI’s date win over the announced one: a later date is not warned about', async () => {
      const later = isoDay(Date.now() + 200 * dayMs);
      sim.setModel('gpt-realtime', later);
      world = await startBroker(sim, { default: 'gpt-realtime' });
      await world.running.broker.modelLifecycle!.idle();
      expect(modelLines(world.logs, 'warn')).toEqual([]);
      expect(gaugeLine(await metricsText(world), 'gpt-realtime')).toMatch(
        new RegExp(` ${startOfDaySeconds(later)}$`),
      );
    });
  });

  describe('when the model is past its shutdown date', () => {
    it('logs an error, still attempts creates, and a failed mint says the model was retired', async () => {
      sim.setModel('gpt-realtime', '2026-01-20');
      world = await startBroker(sim, { default: 'gpt-realtime' });
      await world.running.broker.modelLifecycle!.idle();
      expect(modelLines(world.logs, 'error')).toEqual([
        expect.objectContaining({
          model: 'gpt-realtime',
          profiles: ['default'],
          shutdown_date: '2026-01-20',
        }),
      ]);

      const res = await fetch(`${world.running.url}/session`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await signToken({ sub: 'alice' })}` },
      });
      const body = (await res.json()) as Record<string, unknown>;
      expectProblem(
        { status: res.status, headers: Object.fromEntries(res.headers), body },
        502,
        'upstream-error',
      );
      expect(body.detail).toBe(
        'The OpenAI model of profile "default" (gpt-realtime) was retired on 2026-01-20; its replacement is gpt-realtime-2.1.',
      );
      const mints = sim.ledger().calls.filter((call) => call.route === 'openai.mint');
      expect(mints).toEqual([expect.objectContaining({ status: 404 })]);
      expect(sim.ledger().calls.filter((call) => call.upstream === 'avaturn')).toEqual([]);
    });
  });

  describe('when OpenAI cannot be reached at start', () => {
    it('starts and is ready at once, warns from the announced dates, and retries until OpenAI answers', async () => {
      sim.inject({ route: 'openai.model', status: 503, times: 0 });
      world = await startBroker(sim, { default: 'gpt-realtime' }, 50);
      expect((await fetch(`${world.running.url}/readyz`)).status).toBe(200);
      await world.running.broker.modelLifecycle!.idle();
      const warnings = modelLines(world.logs, 'warn');
      expect(warnings).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ model: 'gpt-realtime', reason: 'status 503' }),
          expect.objectContaining({ model: 'gpt-realtime', shutdown_date: '2027-01-20' }),
        ]),
      );
      expect(gaugeLine(await metricsText(world), 'gpt-realtime')).toMatch(
        new RegExp(` ${startOfDaySeconds('2027-01-20')}$`),
      );

      const later = isoDay(Date.now() + 300 * dayMs);
      sim.setModel('gpt-realtime', later);
      sim.clearFaults();
      await eventually(async () =>
        expect(gaugeLine(await metricsText(world!), 'gpt-realtime')).toMatch(
          new RegExp(` ${startOfDaySeconds(later)}$`),
        ),
      );
      expect(modelCalls(sim).filter((call) => call.status === 503).length).toBeGreaterThanOrEqual(1);
    });
  });

  describe('when OpenAI does not know the model', () => {
    it('logs an error naming the profile, exports nothing for it, and creates go on to the mint', async () => {
      world = await startBroker(sim, { default: 'gpt-imaginary' });
      await world.running.broker.modelLifecycle!.idle();
      expect(modelLines(world.logs, 'error')).toEqual([
        expect.objectContaining({ model: 'gpt-imaginary', profiles: ['default'], code: 'model_not_found' }),
      ]);
      expect(gaugeLine(await metricsText(world), 'gpt-imaginary')).toBeUndefined();

      const res = await fetch(`${world.running.url}/session`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await signToken({ sub: 'alice' })}` },
      });
      expect(res.status).toBe(502);
      expect(((await res.json()) as { detail: string }).detail).not.toContain('retired');
      expect(sim.ledger().calls.filter((call) => call.route === 'openai.mint')).toHaveLength(1);
    });
  });

  describe('while the check hangs', () => {
    it('neither delays readiness nor holds a create', async () => {
      sim.inject({ route: 'openai.model', hang: true, times: 0 });
      world = await startBroker(sim, { default: 'gpt-realtime-2.1' });
      expect((await fetch(`${world.running.url}/readyz`)).status).toBe(200);
      const res = await fetch(`${world.running.url}/session`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await signToken({ sub: 'alice' })}` },
      });
      expect(res.status).toBe(201);
      expect(modelCalls(sim)).toEqual([expect.objectContaining({ status: null })]);
    });
  });
});
