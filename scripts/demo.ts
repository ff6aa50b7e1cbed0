import '../src/node-version';
import { banner, demoCorsOrigins, exitOnStartFailure, movedPorts, portsFrom, stopOnSignal } from './demo/cli';
import { startDemo } from './demo/start-demo';

async function main(): Promise<void> {
  const ports = portsFrom(process.env);
  const demo = await startDemo({ ports, corsOrigins: demoCorsOrigins(process.env) });
  const { urls } = demo;
  process.stdout.write(
    banner(urls, {
      corsOrigins: demo.corsOrigins,
      issuer: demo.idp.issuer,
      audience: demo.idp.audience,
      notices: movedPorts(ports, {
        page: urls.page,
        broker: urls.broker,
        idp: urls.idp,
        simulator: urls.simulator,
      }),
    }),
  );
  stopOnSignal(demo.stop);
}

main().catch(exitOnStartFailure);
