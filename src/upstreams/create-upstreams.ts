import type { Config, EngineType } from '../config/types';
import type { Logger } from '../logger';
import { createAvaturnGateway } from './avaturn-gateway';
import { createCartesiaMinter } from './cartesia-minter';
import { createCircuit, type CallObserver, type Circuit, type CircuitOptions } from './circuit';
import { createExternalEngineMinter } from './external-engine-minter';
import { UpstreamHttp } from './http-client';
import { createModelLifecycle, type ModelCheckOptions } from './model-lifecycle';
import { createOpenAiClient } from './openai-client';
import { createOpenAiMinter } from './openai-minter';
import { createOpenAiModelLookup } from './openai-models';
import { defaultRetry } from './retry';
import type { AvaturnGateway, CircuitName, CredentialMinter, UpstreamName } from './types';
import { createWebhookSender, type WebhookMessage } from './webhook-sender';

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

/** Adapters passed in instead of the real ones (tests, embedding). */
export interface GivenUpstreams {
  minters?: Partial<Record<EngineType, CredentialMinter>>;
  avaturn?: AvaturnGateway;
}

/**
 * The real adapters, sharing one connection pool and a circuit per upstream; only those not given
 * are built.
 */
export function createUpstreams(
  config: Config,
  context: UpstreamContext,
  options: UpstreamOptions = {},
  observe?: CallObserver,
  given: GivenUpstreams = {},
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
  // One SDK client for the mints and the model check, over the shared pool.
  const openai =
    config.openai.apiKey === undefined
      ? undefined
      : createOpenAiClient({ apiKey: config.openai.apiKey, baseUrl: config.openai.baseUrl, timeoutMs, http });
  const modelLifecycle =
    openai &&
    createModelLifecycle({
      profiles: config.profiles,
      lookup: createOpenAiModelLookup(openai),
      ...context,
      ...options.modelCheck,
    });
  const minters = given.minters ?? realMinters();
  const avaturn =
    given.avaturn ??
    createAvaturnGateway({
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

  function realMinters(): Partial<Record<EngineType, CredentialMinter>> {
    const minters: Partial<Record<EngineType, CredentialMinter>> = {};
    if (openai) {
      minters['openai-realtime'] = createOpenAiMinter({
        client: openai,
        timeoutMs,
        circuit: circuits.openai,
        retry,
        retirementOf: modelLifecycle?.retirement,
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
    return minters;
  }

  return {
    minters,
    avaturn,
    /** Delivers webhooks (EVENTS_WEBHOOK_URL), through its own circuit. */
    deliverWebhook:
      webhookSender &&
      ((message: WebhookMessage, signal?: AbortSignal) =>
        circuits.webhook.run('deliver', () => webhookSender.send(message, signal))),
    circuits,
    /** When the OpenAI profiles' models shut down; started with the server, never by a request. */
    modelLifecycle,
    shutdown() {
      modelLifecycle?.stop();
      for (const circuit of Object.values(circuits)) circuit.shutdown();
    },
    close: () => http.close(),
  };
}
