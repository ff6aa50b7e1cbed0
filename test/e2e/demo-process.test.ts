import { createServer } from 'node:http';
import { isAlive, isListening, startDemoProcess, type DemoProcess } from '../helpers/demo-process';
import { listenOn, type Listening } from '../helpers/serve';
import { eventually } from '../helpers/waiting';

const anyPorts = { DEMO_PAGE_PORT: '0', DEMO_BROKER_PORT: '0', DEMO_IDP_PORT: '0', DEMO_SIMULATOR_PORT: '0' };
const ownApp = 'http://localhost:5174';

describe('npm run demo as a process', () => {
  let demo: DemoProcess | undefined;
  let blocker: Listening | undefined;

  afterEach(async () => {
    // Whatever outlived the test (it failed), so that nothing holds a port or this runner's pipes.
    for (const pid of [demo?.npm.pid, ...(demo?.processes ?? [])]) {
      if (pid !== undefined && isAlive(pid)) process.kill(pid, 'SIGKILL');
    }
    demo?.npm.stdout?.destroy();
    demo?.npm.stderr?.destroy();
    demo = undefined;
    await blocker?.close();
    blocker = undefined;
  });

  it('kill -TERM of npm’s own pid leaves no process and no bound port', async () => {
    demo = await startDemoProcess(anyPorts);
    const pids = demo.processes;
    expect(pids.length).toBeGreaterThan(0);
    const urls = Object.values(demo.urls).filter((url) => !url.endsWith('/_sim/ledger'));
    for (const url of urls) expect(await isListening(url)).toBe(true);

    process.kill(demo.npm.pid!, 'SIGTERM');
    await demo.exited;
    await eventually(() => expect(pids.filter(isAlive)).toEqual([]), 15_000);
    for (const url of urls) expect(await isListening(url)).toBe(false);
  }, 60_000);

  it('answers DEMO_CORS_ORIGINS at the broker and the demo IdP, and prints iss, aud, the DELETE line and a taken port', async () => {
    blocker = await listenOn(createServer());
    const taken = blocker.port;
    demo = await startDemoProcess({ ...anyPorts, DEMO_PAGE_PORT: String(taken), DEMO_CORS_ORIGINS: ownApp });
    const { banner, urls } = demo;

    const pagePort = new URL(urls.page).port;
    expect(pagePort).not.toBe(String(taken));
    expect(banner).toContain(`Port ${taken} was taken, so the example page uses ${pagePort} instead`);
    expect(banner).toContain(`CORS_ORIGINS=${urls.page},${ownApp}`);
    expect(banner).toContain(`tokens: iss ${urls.idp}, aud avaturn-broker-demo`);
    expect(banner).toContain(
      `curl -s -X DELETE ${urls.broker}/session/SESSION_ID -H "Authorization: Bearer $TOKEN"`,
    );

    const preflight = (url: string) =>
      fetch(url, {
        method: 'OPTIONS',
        headers: {
          Origin: ownApp,
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'content-type',
        },
      });
    const fromBroker = await preflight(`${urls.broker}/session`);
    expect(fromBroker.status).toBe(204);
    expect(fromBroker.headers.get('access-control-allow-origin')).toBe(ownApp);
    const fromIdp = await preflight(`${urls.idp}/token`);
    expect(fromIdp.status).toBe(204);
    expect(fromIdp.headers.get('access-control-allow-origin')).toBe(ownApp);

    const token = (await (
      await fetch(`${urls.idp}/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Origin: ownApp },
        body: JSON.stringify({ user: 'alice' }),
      })
    ).json()) as { access_token: string };
    const created = await fetch(`${urls.broker}/session`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token.access_token}`, Origin: ownApp },
    });
    expect(created.status).toBe(201);
    const ledger = await (await fetch(urls.ledger)).text();
    // Indented for a person: one key per line.
    expect(ledger).toMatch(/^\{\n {2}"/);

    process.kill(demo.npm.pid!, 'SIGTERM');
    await demo.exited;
  }, 60_000);
});
