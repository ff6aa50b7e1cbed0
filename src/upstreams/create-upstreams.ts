import type { Config, EngineType } from '../config/types';
import type { Logger } from '../logger';
import { createAvaturnGateway } from './avaturn-gateway';
import { createCartesiaMinter } from './cartesia-minter';
import { createCircuit, type CallObserver, type Circuit, type CircuitOptions } from './circuit';
import { createExternalEngineMinter } from './external-engine-minter';
import { UpstreamHttp } from './http-client';
import { createModelLifecycle, type ModelCheckOptions, type ModelLifecycle } from './model-lifecycle';
import { createOpenAiClient } from './openai-client';
import { createOpenAiMinter } from './openai-minter';
import { createOpenAiModelLookup } from './openai-models';
import type { LifecycleEvent } from '../sessions/lifecycle-events';
import { defaultRetry } from './retry';
import type { CircuitName, CredentialMinter, UpstreamName } from './types';
import { createWebhookSender } from './webhook-sender';

export interface UpstreamOptions {
  circuit?: CircuitOptions;
  retry?: typeof defaultRetry;
  modelCheck?: ModelCheckOptions;
}

/** What the adapters log with and tell time by. */
export interface UpstreamContext {
  logger: Logger;
  clock: () => number;
}

/** The real adapters, sharing one connection pool and a circuit per upstream. */
export function createUpstreams(
  config: Config,
  context: UpstreamContext,
  options: UpstreamOptions = {},
  observe?: CallObserver,
) {
  const http = new UpstreamHttp();
  const circuitFor = (upstream: UpstreamName) => createCircuit(upstream, options.circuit, observe);
  const circuits = {
    openai: circuitFor('openai'),
    cartesia: circuitFor('cartesia'),
    'avaturn-create': circuitFor('avaturn'),
    'avaturn-terminate': circuitFor('avaturn'),
    webhook: circuitFor('webhook'),
  } satisfies Record<CircuitName, Circuit>;
  for (const [name, circuit] of Object.entries(circuits)) {
    circuit.onStateChange((state) =>
      context.logger.warn({ circuit: name, state }, `${name} circuit ${state}`),
    );
  }
  const timeoutMs = config.timeouts.upstreamMs;
  const retry = options.retry ?? defaultRetry;
  const minters: Partial<Record<EngineType, CredentialMinter>> = {};
  let modelLifecycle: ModelLifecycle | undefined;
  if (config.openai.apiKey !== undefined) {
    const openai = { apiKey: config.openai.apiKey, baseUrl: config.openai.baseUrl, timeoutMs, http };
    modelLifecycle = createModelLifecycle({
      profiles: config.profiles,
      lookup: createOpenAiModelLookup(createOpenAiClient(openai)),
      ...context,
      ...options.modelCheck,
    });
    minters['openai-realtime'] = createOpenAiMinter({
      ...openai,
      circuit: circuits.openai,
      retry,
      retirementOf: modelLifecycle.retirement,
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
    circuits: { create: circuits['avaturn-create'], terminate: circuits['avaturn-terminate'] },
  });
  const webhook = config.eventsWebhook;
  const webhookSender =
    webhook &&
    createWebhookSender({ url: webhook.url, secret: webhook.secret, http, timeoutMs, clock: Date.now });
  return {
    minters,
    avaturn,
    /** Delivers lifecycle events (EVENTS_WEBHOOK_URL), through its own circuit. */
    deliverEvent:
      webhookSender &&
      ((event: LifecycleEvent, signal?: AbortSignal) =>
        circuits.webhook.run('deliver', () => webhookSender.send(event, signal))),
    circuits,
    /** When the OpenAI profiles' models shut down; started by the server, never by a request. */
    modelLifecycle,
    shutdown() {
      modelLifecycle?.stop();
      for (const circuit of Object.values(circuits)) circuit.shutdown();
    },
    close: () => http.close(),
  };
}
