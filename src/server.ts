import './node-version';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, loadConfig } from './config/load-config';
import type { Config } from './config/types';
import { createApp, type AppDeps, type BrokerApp } from './http/app';
import { createHttpServer } from './http/http-server';
import { loadDotenv } from './config/load-dotenv';
import { startupNotices, unknownVariableNotices } from './config/startup-notices';

export interface RunningServer {
  broker: BrokerApp;
  server: Server;
  url: string;
  /** Drain, stop accepting, finish in-flight requests, release everything. */
  shutdown(): Promise<void>;
}

function settledWithin(settled: Promise<void>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    void settled.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * How long shutdown waits for terminations this process is trying, once requests are done. In
 * memory they are lost with the process, so they get a little longer.
 */
const shutdownBudgetMs = { redis: 500, memory: 3_000 };

/** The longest a clean shutdown may take: drain, in-flight creates, then the termination budget. */
export function shutdownLimitMs(config: Config): number {
  return (
    config.timeouts.shutdownDrainMs +
    config.timeouts.sessionCreateDeadlineMs +
    shutdownBudgetMs.memory +
    2_000
  );
}

export async function startServer(config: Config, deps: AppDeps = {}): Promise<RunningServer> {
  const broker = createApp(config, deps);
  const server = createHttpServer(broker.app, { logger: broker.logger });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  // In the background: a slow or unreachable OpenAI never delays readiness.
  broker.modelLifecycle?.start();
  const { port } = server.address() as AddressInfo;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  let stopping: Promise<void> | undefined;

  async function stop(): Promise<void> {
    broker.startDraining();
    // From now on every answer closes its connection; sockets idle between requests close now.
    server.closeIdleConnections();
    // Load balancers need a moment to see readiness fail before we stop accepting.
    await new Promise((resolve) => setTimeout(resolve, config.timeouts.shutdownDrainMs));
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // No legitimate request outlives the create deadline; what is left then holds no request.
    await settledWithin(broker.requestsSettled(), config.timeouts.sessionCreateDeadlineMs);
    server.closeAllConnections();
    await closed;
    // On Redis, every termination under way is queued already: the next replica finishes it.
    await broker.close(broker.store.kind === 'redis' ? shutdownBudgetMs.redis : shutdownBudgetMs.memory);
  }

  return {
    broker,
    server,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    shutdown: () => (stopping ??= stop()),
  };
}

/** Exits 0 after a clean shutdown on SIGTERM/SIGINT; a second signal exits at once. */
export function handleSignals(running: RunningServer, hardLimitMs: number): void {
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      running.broker.logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    signalled = true;
    running.broker.logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      running.broker.logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, hardLimitMs).unref();
    running.shutdown().then(
      () => process.exit(0),
      (err: unknown) => {
        running.broker.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

async function main(): Promise<void> {
  const dotenvPath = '.env';
  const env = loadDotenv(process.env, dotenvPath);
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      const hints = unknownVariableNotices(env).map((notice) => `  (${notice.msg})\n`);
      process.stderr.write(`${err.message}\n${hints.join('')}`);
      process.exit(78);
    }
    throw err;
  }
  const running = await startServer(config);
  handleSignals(running, shutdownLimitMs(config));
  const { logger } = running.broker;
  for (const notice of startupNotices(env, config, dotenvPath)) logger[notice.level](notice.msg);
  logger.info({ url: running.url, store: running.broker.store.kind }, 'avaturn-broker listening');
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(
      `avaturn-broker failed to start: ${err instanceof Error ? err.message : String(err)}\n`,
    );
    process.exit(1);
  });
}
