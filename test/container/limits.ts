import { loadConfig } from '../../src/config/load-config';
import { shutdownLimitMs } from '../../src/server';

/** Taken by the machine's own services on this kind of machine: never publish them. */
export const forbiddenHostPorts = [6379, 5432, 3306, 5672, 1883, 4222];

function defaultConfig() {
  return loadConfig({
    AVATURN_API_KEY: 'k',
    OPENAI_API_KEY: 'k',
    AUTH_JWT_SECRET: 'a-secret-of-at-least-thirty-two-bytes',
  });
}

/** SHUTDOWN_DRAIN_MS's default, from the configuration itself. */
export function defaultDrainSeconds(): number {
  return defaultConfig().timeouts.shutdownDrainMs / 1000;
}

/**
 * What the broker allows itself after the drain before it gives up, with the default
 * configuration (src/server.ts, shutdownLimitMs).
 */
export function shutdownBudgetSeconds(): number {
  const config = defaultConfig();
  return (shutdownLimitMs(config) - config.timeouts.shutdownDrainMs) / 1000;
}
