import '../src/node-version';
import { banner, exitOnStartFailure, portsFrom, stopOnSignal } from './demo/cli';
import { startDemo } from './demo/start-demo';

async function main(): Promise<void> {
  const demo = await startDemo({ ports: portsFrom(process.env) });
  process.stdout.write(banner(demo.urls));
  stopOnSignal(demo.stop);
}

main().catch(exitOnStartFailure);
