import '../src/node-version';
import { banner, demoCorsOrigins, exitOnStartFailure, portsFrom, stopOnSignal } from './demo/cli';
import { startDemoIdp } from './demo/demo-idp';
import { startPageServer } from './demo/page-server';
import { defaultDemoPorts, demoAudience } from './demo/start-demo';

/**
 * The app's side of the demo on its own, its page and its identity provider, for the `demo`
 * profile of docker-compose.yml, where the simulator and the broker run in containers of their
 * own. Behind published ports the browser reaches everything at other addresses than the ones
 * listened on: DEMO_PAGE_URL, DEMO_IDP_URL, DEMO_BROKER_URL and DEMO_SIMULATOR_URL say which.
 */
async function main(): Promise<void> {
  const env = process.env;
  const host = env.DEMO_HOST ?? '127.0.0.1';
  const ports = portsFrom(env);
  const urls: { page?: string; idp?: string } = {};
  const brokerUrl = env.DEMO_BROKER_URL ?? `http://127.0.0.1:${defaultDemoPorts.broker}`;
  const simulatorUrl = env.DEMO_SIMULATOR_URL ?? `http://127.0.0.1:${defaultDemoPorts.simulator}`;

  const page = await startPageServer({
    port: ports.page,
    host,
    config: () => {
      if (urls.idp === undefined) throw new Error('the demo is still starting');
      return { brokerUrl, idpUrl: urls.idp, avaturnApiHost: simulatorUrl, simulated: true };
    },
  });
  urls.page = env.DEMO_PAGE_URL ?? page.url;
  const idp = await startDemoIdp({
    port: ports.idp,
    host,
    origins: [new URL(urls.page).origin, ...demoCorsOrigins(env)],
    audience: demoAudience,
    ...(env.DEMO_IDP_URL === undefined ? {} : { issuer: env.DEMO_IDP_URL }),
  }).catch(async (err: unknown) => {
    await page.close();
    throw err;
  });
  urls.idp = env.DEMO_IDP_URL ?? idp.url;

  process.stdout.write(
    banner(
      {
        page: urls.page,
        broker: brokerUrl,
        idp: urls.idp,
        jwks: `${urls.idp}/.well-known/jwks.json`,
        simulator: simulatorUrl,
        ledger: `${simulatorUrl}/_sim/ledger`,
      },
      { issuer: idp.issuer, audience: demoAudience },
    ),
  );
  stopOnSignal(async () => {
    await idp.close();
    await page.close();
  });
}

main().catch(exitOnStartFailure);
