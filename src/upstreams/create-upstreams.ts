import type { Config, EngineType } from '../config/types';
import { createAvaturnGateway } from './avaturn-gateway';
import { createCartesiaMinter } from './cartesia-minter';
import { createCircuit, type CircuitOptions } from './circuit';
import { createExternalEngineMinter } from './external-engine-minter';
import { UpstreamHttp } from './http-client';
import { createOpenAiMinter } from './openai-minter';
import { defaultRetry } from './retry';
import type { CredentialMinter } from './types';

export interface UpstreamOptions {
  circuit?: CircuitOptions;
  retry?: typeof defaultRetry;
}

/** The real adapters, sharing one connection pool and a circuit per upstream. */
export function createUpstreams(config: Config, options: UpstreamOptions = {}) {
  const http = new UpstreamHttp();
  const circuits = {
    openai: createCircuit('openai', options.circuit),
    cartesia: createCircuit('cartesia', options.circuit),
    avaturn: createCircuit('avaturn', options.circuit),
  };
  const timeoutMs = config.timeouts.upstreamMs;
  const retry = options.retry ?? defaultRetry;
  const minters: Partial<Record<EngineType, CredentialMinter>> = {};
  if (config.openai.apiKey !== undefined) {
    minters['openai-realtime'] = createOpenAiMinter({
      apiKey: config.openai.apiKey,
      baseUrl: config.openai.baseUrl,
      timeoutMs,
      http,
      circuit: circuits.openai,
      retry,
    });
  }
  if (config.cartesia.apiKey !== undefined) {
    minters.cartesia = createCartesiaMinter({
      apiKey: config.cartesia.apiKey,
      baseUrl: config.cartesia.baseUrl,
      version: config.cartesia.version,
      timeoutMs,
      http,
      circuit: circuits.cartesia,
      retry,
    });
  }
  if (config.externalEngine !== undefined) {
    minters.external = createExternalEngineMinter({ signingKey: config.externalEngine.signingKey });
  }
  const avaturn = createAvaturnGateway({
    apiKey: config.avaturn.apiKey,
    baseUrl: config.avaturn.baseUrl,
    timeoutMs,
    http,
    circuit: circuits.avaturn,
  });
  return {
    minters,
    avaturn,
    circuits,
    shutdown() {
      for (const circuit of Object.values(circuits)) circuit.shutdown();
    },
    close: () => http.close(),
  };
}
