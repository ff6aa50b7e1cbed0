import '../node-version';
import { brokerEnvFor } from './broker-env';
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
  const variables = Object.entries(brokerEnvFor(sim)).map(([name, value]) => `${name}=${value}`);
  console.log(
    [
      `# upstream simulator listening on ${sim.url}; its ledger: GET ${sim.url}/_sim/ledger`,
      '# the broker variables that point at it, one per line, ready for .env:',
      ...variables,
    ].join('\n'),
  );

  const stop = () => void sim.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error('simulator failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
