import '../node-version';
import { startSimulator } from './server';

/** Runs the simulator on its own: `npm run simulator`, or `node dist/simulator/main.js` in the image. */
async function main(): Promise<void> {
  const env = process.env;
  const sim = await startSimulator({
    port: env.SIM_PORT === undefined ? 4010 : Number(env.SIM_PORT),
    host: env.SIM_HOST ?? '127.0.0.1',
    keys: { avaturn: env.SIM_AVATURN_KEY, openai: env.SIM_OPENAI_KEY, cartesia: env.SIM_CARTESIA_KEY },
  });
  // These keys only open this simulator; printing them is how the broker gets configured.
  console.log(`upstream simulator listening on ${sim.url}
  AVATURN_BASE_URL=${sim.url}   AVATURN_API_KEY=${sim.keys.avaturn}
  OPENAI_BASE_URL=${sim.url}/v1   OPENAI_API_KEY=${sim.keys.openai}
  CARTESIA_BASE_URL=${sim.url}   CARTESIA_API_KEY=${sim.keys.cartesia}
  ledger: GET ${sim.url}/_sim/ledger`);

  const stop = () => void sim.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error('simulator failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
