import type { Simulator } from './types';

/** The broker variables that point it at this simulator with keys the simulator accepts. */
export function brokerEnvFor(sim: Pick<Simulator, 'url' | 'keys'>): Record<string, string> {
  return {
    AVATURN_API_KEY: sim.keys.avaturn,
    AVATURN_BASE_URL: sim.url,
    OPENAI_API_KEY: sim.keys.openai,
    OPENAI_BASE_URL: `${sim.url}/v1`,
    CARTESIA_API_KEY: sim.keys.cartesia,
    CARTESIA_BASE_URL: sim.url,
  };
}
