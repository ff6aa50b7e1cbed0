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

/** DEMO_CORS_ORIGINS: the developer's own app origins, e.g. a Vite dev server's `http://localhost:5174`. */
export function demoCorsOrigins(env: NodeJS.ProcessEnv): string[] {
  const origins = (env.DEMO_CORS_ORIGINS ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin !== '');
  const invalid = origins.filter((origin) => {
    try {
      return new URL(origin).origin !== origin;
    } catch {
      return true;
    }
  });
  if (invalid.length > 0)
    throw new Error(
      'DEMO_CORS_ORIGINS must be a comma-separated list of origins like http://localhost:5174 ' +
        '(scheme, host and port; no path, no trailing slash)',
    );
  return origins;
}

const serviceNames: Record<keyof DemoPorts, string> = {
  page: 'the example page',
  broker: 'the broker',
  idp: 'the demo IdP',
  simulator: 'the simulator',
};

/** One line per preferred port that was taken: which, and what was used instead. */
export function movedPorts(wanted: DemoPorts, urls: Record<keyof DemoPorts, string>): string[] {
  return (Object.keys(serviceNames) as (keyof DemoPorts)[]).flatMap((name) => {
    const actual = Number(new URL(urls[name]).port);
    if (wanted[name] === 0 || actual === wanted[name]) return [];
    return [
      `Port ${wanted[name]} was taken, so ${serviceNames[name]} uses ${actual} instead ` +
        `(an earlier demo may still run there; ${portVariables[name]} picks another).`,
    ];
  });
}

export interface BannerDetails {
  /** Everything the broker answers CORS for: the page and DEMO_CORS_ORIGINS. */
  corsOrigins?: readonly string[];
  /** The demo IdP's tokens: the broker's AUTH_ISSUER and AUTH_AUDIENCE. */
  issuer?: string;
  audience?: string;
  notices?: readonly string[];
}

export function banner(urls: DemoUrls, details: BannerDetails = {}): string {
  const tokenCall = `curl -s -X POST ${urls.idp}/token -H 'Content-Type: application/json' -d '{"user":"alice"}'`;
  const cors = details.corsOrigins === undefined ? '' : `CORS_ORIGINS=${details.corsOrigins.join(',')}`;
  const claims =
    details.issuer === undefined
      ? ''
      : `\n                                 tokens: iss ${details.issuer}, aud ${details.audience ?? ''}`;
  const notices = details.notices?.length ? `\n${details.notices.join('\n')}\n` : '';
  const ownApp =
    details.corsOrigins?.length === 1
      ? `
Your own app on another origin (a Vite dev server, say): start the demo with
  DEMO_CORS_ORIGINS=http://localhost:5174 npm run demo
and the broker and the demo IdP answer it too.
`
      : '';
  return `
Avaturn broker demo: simulated upstreams, no keys needed, no real sessions billed.

  Example page   ${urls.page}      open it, sign in, start an avatar
  Broker         ${urls.broker}      ${cors}
  Demo IdP       ${urls.idp}      JWKS ${urls.jwks}${claims}
  Simulator      ${urls.simulator}      ledger ${urls.ledger}
${notices}${ownApp}
Start a session from a shell:
  TOKEN=$(${tokenCall} | sed -E 's/.*"access_token":"([^"]+)".*/\\1/')
  curl -s -X POST ${urls.broker}/session -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{}'
End it (the session_id from that answer):
  curl -s -X DELETE ${urls.broker}/session/SESSION_ID -H "Authorization: Bearer $TOKEN"

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
  process.on('SIGHUP', onSignal);
  stopWithParent(onSignal);
}

/**
 * npm does not wait for its script on SIGTERM, and the shell between them does not pass the
 * signal on: the demo would keep its ports with nobody to stop it. A new parent means the old
 * one is gone, so stop as on a signal.
 */
function stopWithParent(onParentGone: () => void, intervalMs = 250): void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onParentGone();
  }, intervalMs);
  timer.unref();
}

export function exitOnStartFailure(err: unknown): never {
  process.stderr.write(`The demo failed to start: ${reason(err)}\n`);
  process.exit(1);
}
