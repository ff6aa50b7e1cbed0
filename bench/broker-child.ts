import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export interface Usage {
  cpu: NodeJS.CpuUsage;
  rssBytes: number;
  /** Highest sampled RSS since the previous mark. */
  peakRssBytes: number;
  /** getrusage ru_maxrss: the process's peak since it started. */
  lifetimePeakRssBytes: number;
  /** V8 heap in use after a full GC: what the broker really holds on to. */
  retainedHeapBytes: number | undefined;
  /** CPU time once the mark's own GC is done: where the next window starts. */
  cpuAfterMark: NodeJS.CpuUsage;
}

export type ParentMessage =
  | { type: 'start'; env: Record<string, string>; profilesJson: string; redisUrl: string | undefined }
  | { type: 'mark' }
  | { type: 'stop' };

export type ChildMessage =
  | { type: 'ready'; url: string; store: string; keyPrefix?: string }
  | { type: 'usage'; usage: Usage }
  | { type: 'stopped'; keysDeleted: number }
  | { type: 'failed'; message: string };

export interface BrokerChild {
  url: string;
  pid: number;
  store: string;
  keyPrefix: string | undefined;
  /** The broker's CPU and memory now; starts a new peak-RSS window. */
  mark(): Promise<Usage>;
  /** Shuts the broker down (and removes its Redis keys); resolves once the process has exited. */
  stop(): Promise<{ keysDeleted: number }>;
}

function nextMessage<T extends ChildMessage['type']>(
  child: ChildProcess,
  type: T,
  timeoutMs = 15_000,
): Promise<Extract<ChildMessage, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => done(new Error(`broker process: no ${type} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onMessage = (message: ChildMessage) => {
      if (message.type === type) done(undefined, message as Extract<ChildMessage, { type: T }>);
      else if (message.type === 'failed') done(new Error(`broker process failed: ${message.message}`));
    };
    const onExit = (code: number | null) => done(new Error(`broker process exited (${code}) before ${type}`));
    function done(err?: Error, message?: Extract<ChildMessage, { type: T }>) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(message!);
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

export interface BrokerChildOptions {
  /** PROFILES_FILE's content. */
  profilesJson: string;
  redisUrl: string | undefined;
  /** Write a V8 CPU profile of the broker into this directory when it exits. */
  cpuProfileDir: string | undefined;
}

/** Runs src/server.ts's startServer in a child process (through tsx, like `npm run dev`). */
export async function startBrokerChild(
  env: Record<string, string>,
  options: BrokerChildOptions,
): Promise<BrokerChild> {
  const profiling =
    options.cpuProfileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`];
  const child = fork(join(__dirname, 'broker-process.ts'), [], {
    execArgv: ['--import', 'tsx', '--expose-gc', ...profiling],
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = nextMessage(child, 'ready');
  child.send({
    type: 'start',
    env,
    profilesJson: options.profilesJson,
    redisUrl: options.redisUrl,
  } satisfies ParentMessage);
  let started: Extract<ChildMessage, { type: 'ready' }>;
  try {
    started = await ready;
  } catch (err) {
    child.kill();
    throw err;
  }

  return {
    url: started.url,
    pid: child.pid ?? -1,
    store: started.store,
    keyPrefix: started.keyPrefix,
    async mark() {
      const answer = nextMessage(child, 'usage');
      child.send({ type: 'mark' } satisfies ParentMessage);
      return (await answer).usage;
    },
    async stop() {
      const answer = nextMessage(child, 'stopped', 30_000);
      child.send({ type: 'stop' } satisfies ParentMessage);
      try {
        const { keysDeleted } = await answer;
        await exited;
        return { keysDeleted };
      } finally {
        if (child.exitCode === null) child.kill();
      }
    },
  };
}
