import { defaultDemoPorts, type DemoPorts, type DemoUrls } from './start-demo';

const portVariables: Record<keyof DemoPorts, string> = {
  simulator: 'DEMO_SIMULATOR_PORT',
  idp: 'DEMO_IDP_PORT',
  broker: 'DEMO_BROKER_PORT',
  page: 'DEMO_PAGE_PORT',
};

export function portsFrom(env: NodeJS.ProcessEnv): DemoPorts {
  const ports = { ...defaultDemoPorts };
  for (const [name, variable] of Object.entries(portVariables) as [keyof DemoPorts, string][]) {
    const value = env[variable];
    if (value === undefined || value === '') continue;
    if (!/^\d+$/.test(value) || Number(value) > 65535)
      throw new Error(`${variable} must be a port number (0 for any)`);
    ports[name] = Number(value);
  }
  return ports;
}

export function banner(urls: DemoUrls): string {
  const tokenCall = `curl -s -X POST ${urls.idp}/token -H 'Content-Type: application/json' -d '{"user":"alice"}'`;
  return `
Avaturn broker demo: simulated upstreams, no keys needed, no real sessions billed.

  Example page   ${urls.page}      open it, sign in, start an avatar
  Broker         ${urls.broker}      CORS_ORIGINS=${urls.page}
  Demo IdP       ${urls.idp}      JWKS ${urls.jwks}
  Simulator      ${urls.simulator}      ledger ${urls.ledger}

Start a session from a shell:
  TOKEN=$(${tokenCall} | sed -E 's/.*"access_token":"([^"]+)".*/\\1/')
  curl -s -X POST ${urls.broker}/session -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{}'

See what the upstreams saw:
  curl -s ${urls.ledger}

Press Ctrl-C to stop.
`;
}

const reason = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Runs `stop` on SIGINT/SIGTERM and exits 0 once it is done; a second signal exits at once. */
export function stopOnSignal(stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = () => {
    if (stopping) process.exit(1);
    stopping = true;
    process.stdout.write('\nStopping the demo...\n');
    setTimeout(() => {
      process.stderr.write('The demo took too long to stop.\n');
      process.exit(1);
    }, 10_000).unref();
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`The demo did not stop cleanly: ${reason(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

export function exitOnStartFailure(err: unknown): never {
  process.stderr.write(`The demo failed to start: ${reason(err)}\n`);
  process.exit(1);
}
