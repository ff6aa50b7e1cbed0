import { loadConfig } from '../../src/config/load-config';
import { startServer } from '../../src/server';
import { brokerEnvFor, startSimulator, type Simulator } from '../../src/simulator';
import { startDemoIdp, type DemoIdp } from './demo-idp';
import { choosePort } from './listen';
import { startPageServer, type PageConfig } from './page-server';

export interface DemoPorts {
  simulator: number;
  idp: number;
  broker: number;
  page: number;
}

export const defaultDemoPorts: DemoPorts = { simulator: 4010, idp: 4020, broker: 8080, page: 5173 };

export interface DemoOptions {
  /** Preferred ports; a taken one falls back to a free one, and 0 always picks a free one. */
  ports?: Partial<DemoPorts>;
  host?: string;
  /** More broker variables (limits, policies, LOG_LEVEL); they win over the demo's own. */
  brokerEnv?: Record<string, string>;
  /** The developer's own app origins (DEMO_CORS_ORIGINS): the broker and the demo IdP answer them too. */
  corsOrigins?: readonly string[];
}

export interface DemoUrls {
  page: string;
  broker: string;
  idp: string;
  jwks: string;
  simulator: string;
  ledger: string;
}

export interface RunningDemo {
  urls: DemoUrls;
  sim: Simulator;
  idp: DemoIdp;
  /** The broker's CORS_ORIGINS: the example page's origin, then DEMO_CORS_ORIGINS. */
  corsOrigins: string[];
  /** Stops everything, the simulator last so the broker can still end sessions it is closing. */
  stop(): Promise<void>;
}

/** The demo IdP's `aud`; docker-compose.yml's demo broker names it too. */
export const demoAudience = 'avaturn-broker-demo';

/**
 * A small daily budget and short sessions, so a newcomer sees it all within minutes: the minutes
 * left, a second session clamped to what is left (2 of its 3 minutes) and counted down in its last
 * minute, then `budget-exhausted`. docker-compose.yml's demo broker sets the same.
 */
export const demoLimits = { USER_DAILY_MINUTES: '5', SESSION_MAX_DURATION_SECONDS: '180' } as const;

/** Everything `npm run demo` runs: simulator, demo IdP, broker and example page, wired together. */
export async function startDemo(options: DemoOptions = {}): Promise<RunningDemo> {
  const host = options.host ?? '127.0.0.1';
  const ports = { ...defaultDemoPorts, ...options.ports };
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  };

  try {
    const sim = await startSimulator({ port: await choosePort(ports.simulator, host), host });
    stops.push(() => sim.close());

    const pageConfig: { current?: PageConfig } = {};
    const page = await startPageServer({
      port: ports.page,
      host,
      config: () => {
        if (pageConfig.current === undefined) throw new Error('the demo is still starting');
        return pageConfig.current;
      },
    });
    stops.push(page.close);

    const corsOrigins = [...new Set([page.url, ...(options.corsOrigins ?? [])])];
    const idp = await startDemoIdp({ port: ports.idp, host, origins: corsOrigins, audience: demoAudience });
    stops.push(idp.close);

    const config = loadConfig({
      ...brokerEnvFor(sim),
      AUTH_JWKS_URL: idp.jwksUrl,
      AUTH_ISSUER: idp.issuer,
      AUTH_AUDIENCE: demoAudience,
      CORS_ORIGINS: corsOrigins.join(','),
      HOST: host,
      PORT: String(await choosePort(ports.broker, host)),
      LOG_LEVEL: 'warn',
      // Nothing balances load in front of the demo, so there is nobody to drain for.
      SHUTDOWN_DRAIN_MS: '0',
      ...demoLimits,
      ...options.brokerEnv,
    });
    const broker = await startServer(config);
    stops.push(() => broker.shutdown());

    pageConfig.current = { brokerUrl: broker.url, idpUrl: idp.url, avaturnApiHost: sim.url, simulated: true };
    return {
      urls: {
        page: page.url,
        broker: broker.url,
        idp: idp.url,
        jwks: idp.jwksUrl,
        simulator: sim.url,
        ledger: `${sim.url}/_sim/ledger`,
      },
      sim,
      idp,
      corsOrigins,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
