import type { SimLedger } from '../../src/simulator/types';
import { driveHealthchecks, engine, freePort, run, runOk, waitFor, type Engine } from './engine';
import { buildImage } from './image';

const current: Engine = engine();
const project = `avaturn-check-${Math.random().toString(36).slice(2, 8)}`;
const projectFilter = `label=com.docker.compose.project=${project}`;

describe('docker-compose.yml › Compose v1', () => {
  it('is accepted by `docker-compose config`, with and without the demo profile', async () => {
    await runOk(current.composeV1, ['config', '-q']);
    await runOk(current.composeV1, ['--profile', 'demo', 'config', '-q']);
    const services = await runOk(current.composeV1, ['--profile', 'demo', 'config', '--services']);
    expect(services.trim().split('\n').sort()).toEqual([
      'broker',
      'demo-app',
      'demo-broker',
      'redis',
      'simulator',
    ]);
  });
});

describe('docker compose --profile demo up', () => {
  const ports = { page: 0, broker: 0, idp: 0, simulator: 0 };
  const url = (port: number) => `http://127.0.0.1:${port}`;
  let env: NodeJS.ProcessEnv;
  let stopDriving: () => Promise<void> = async () => {};
  const compose = (args: string[]) =>
    runOk(current.compose[0]!, [...current.compose.slice(1), '-p', project, '--profile', 'demo', ...args], {
      env,
    });

  beforeAll(async () => {
    await buildImage(current);
    for (const name of Object.keys(ports) as (keyof typeof ports)[]) ports[name] = await freePort();
    env = {
      ...process.env,
      BROKER_IMAGE: current.image,
      DEMO_PAGE_PORT: String(ports.page),
      DEMO_BROKER_PORT: String(ports.broker),
      DEMO_IDP_PORT: String(ports.idp),
      DEMO_SIMULATOR_PORT: String(ports.simulator),
    };
    // `up` waits for the healthy dependencies, so their healthchecks must run meanwhile.
    stopDriving = driveHealthchecks(current, projectFilter);
    await compose(['up', '-d', '--no-build']).catch(async (err: Error) => {
      const logs = await run(
        current.compose[0]!,
        [...current.compose.slice(1), '-p', project, 'logs', '--no-color', '--tail', '20'],
        { env },
      );
      throw new Error(`${err.message}\n--- logs ---\n${logs.stdout}${logs.stderr}`);
    });
    // Nothing depends on the broker, so `up` does not wait for it.
    await waitFor('the demo broker to be ready', async () =>
      (await fetch(`${url(ports.broker)}/readyz`)).ok ? true : undefined,
    );
  });

  afterAll(async () => {
    await stopDriving();
    await run(
      current.compose[0]!,
      [...current.compose.slice(1), '-p', project, '--profile', 'demo', 'down', '-v', '-t', '5'],
      {
        env,
      },
    );
  });

  it('serves the example page with its prebuilt bundle, pointed at the published addresses', async () => {
    const page = await fetch(url(ports.page));
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('/assets/main.js');
    const bundle = await fetch(`${url(ports.page)}/assets/main.js`);
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-type')).toMatch(/javascript/);
    expect(await (await fetch(`${url(ports.page)}/config.json`)).json()).toEqual({
      brokerUrl: url(ports.broker),
      idpUrl: url(ports.idp),
      avaturnApiHost: url(ports.simulator),
      simulated: true,
    });
  });

  it('signs in at the demo identity provider and creates a session through the broker, which the simulator records', async () => {
    const origin = url(ports.page);
    const signIn = await fetch(`${url(ports.idp)}/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: origin },
      body: JSON.stringify({ user: 'alice' }),
    });
    expect(signIn.status).toBe(200);
    const { access_token: token } = (await signIn.json()) as { access_token: string };

    const created = await fetch(`${url(ports.broker)}/session`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Origin: origin },
      body: '{}',
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('access-control-allow-origin')).toBe(origin);
    const { session_id: sessionId } = (await created.json()) as { session_id: string };

    const ledger = (await (await fetch(`${url(ports.simulator)}/_sim/ledger`)).json()) as SimLedger;
    expect(ledger.sessions).toEqual([expect.objectContaining({ sessionId, state: 'live' })]);

    const ended = await fetch(`${url(ports.broker)}/session/${sessionId}`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${token}`, Origin: origin },
    });
    expect(ended.status).toBe(204);
  });

  it('publishes the demo on 127.0.0.1 only, and Redis not at all', async () => {
    const ids = (await runOk(current.cli, ['ps', '-q', '--filter', projectFilter]))
      .split('\n')
      .filter(Boolean);
    const containers = JSON.parse(await runOk(current.cli, ['container', 'inspect', ...ids])) as {
      Config: { Labels: Record<string, string> };
      NetworkSettings: { Ports: Record<string, { HostIp: string; HostPort: string }[] | null> };
    }[];
    const published = Object.fromEntries(
      containers.map((c) => [
        c.Config.Labels['com.docker.compose.service'],
        Object.values(c.NetworkSettings.Ports ?? {})
          .flatMap((bindings) => bindings ?? [])
          .map((b) => `${b.HostIp}:${b.HostPort}`)
          .sort(),
      ]),
    );
    const at = (...list: number[]) => list.map((port) => `127.0.0.1:${port}`).sort();
    expect(published).toEqual({
      redis: [],
      simulator: at(ports.simulator),
      'demo-app': at(ports.page, ports.idp),
      'demo-broker': at(ports.broker),
    });
  });

  it('`down -v` removes its containers and its Redis volume', async () => {
    await compose(['down', '-v', '-t', '5']);
    expect((await runOk(current.cli, ['ps', '-a', '-q', '--filter', projectFilter])).trim()).toBe('');
    const volumes = await runOk(current.cli, ['volume', 'ls', '-q', '--filter', projectFilter]);
    expect(volumes.trim()).toBe('');
  });
});
