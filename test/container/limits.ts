import { loadConfig } from '../../src/config/load-config';

/** Taken by the machine's own services on this kind of machine: never publish them. */
export const forbiddenHostPorts = [6379, 5432, 3306, 5672, 1883, 4222];

/** What the broker allows itself after the drain before it gives up (src/server.ts, handleSignals). */
export const shutdownBudgetSeconds = 15;

/** SHUTDOWN_DRAIN_MS's default, from the configuration itself. */
export function defaultDrainSeconds(): number {
  const config = loadConfig({
    AVATURN_API_KEY: 'k',
    OPENAI_API_KEY: 'k',
    AUTH_JWT_SECRET: 'a-secret-of-at-least-thirty-two-bytes',
  });
  return config.timeouts.shutdownDrainMs / 1000;
}
