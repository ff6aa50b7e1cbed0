import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { ChildMessage, ParentMessage, Usage } from './child-protocol';

export type { Usage };

export interface Child {
  url: string;
  pid: number;
  info: Record<string, unknown>;
  /** The process's CPU and memory now; starts a new peak-RSS window. */
  mark(): Promise<Usage>;
  /** Runs one of the child's calls (see ChildService.calls). */
  call<T>(name: string, args?: unknown, timeoutMs?: number): Promise<T>;
  /** Stops the service; resolves once the process has exited. */
  stop(): Promise<void>;
}

export interface ChildOptions {
  /** From compileForChildren (bench/compile.ts). */
  buildDir: string;
  /** The script in bench/, run from its compiled form with plain node. */
  script: 'broker-process' | 'baseline-server' | 'stack-server' | 'fake-upstreams';
  params: unknown;
  /** Show the child's stdout (the broker's log lines go nowhere otherwise; they still cost what they cost). */
  stdout?: boolean;
}

function nextMessage<T extends ChildMessage['type']>(
  child: ChildProcess,
  type: T,
  timeoutMs: number,
  match: (message: Extract<ChildMessage, { type: T }>) => boolean = () => true,
): Promise<Extract<ChildMessage, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`no ${type} within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (message: ChildMessage) => {
      if (message.type === type && match(message as Extract<ChildMessage, { type: T }>))
        done(undefined, message as Extract<ChildMessage, { type: T }>);
      else if (message.type === 'failed') done(new Error(message.message));
    };
    const onExit = (code: number | null) => done(new Error(`exited (${code}) before ${type}`));
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

/** Forks a bench server into its own process, so that its CPU time and memory are its own. */
export async function startChild(options: ChildOptions): Promise<Child> {
  const child = fork(join(options.buildDir, 'bench', `${options.script}.js`), [], {
    execArgv: ['--expose-gc'],
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production' },
    stdio: ['ignore', options.stdout ? 'inherit' : 'ignore', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const label = `${options.script} (pid ${child.pid})`;
  const ready = nextMessage(child, 'ready', 30_000);
  child.send({ type: 'start', params: options.params } satisfies ParentMessage);
  let started: Extract<ChildMessage, { type: 'ready' }>;
  try {
    started = await ready;
  } catch (err) {
    child.kill();
    throw new Error(`${label}: ${(err as Error).message}`, { cause: err });
  }
  let nextCallId = 0;

  return {
    url: started.url,
    pid: child.pid ?? -1,
    info: started.info,
    async mark() {
      const answer = nextMessage(child, 'usage', 15_000);
      child.send({ type: 'mark' } satisfies ParentMessage);
      return (await answer).usage;
    },
    async call<T>(name: string, args?: unknown, timeoutMs = 120_000): Promise<T> {
      const id = nextCallId++;
      const answer = nextMessage(child, 'result', timeoutMs, (m) => m.id === id);
      child.send({ type: 'call', id, name, args } satisfies ParentMessage);
      const result = await answer;
      if (result.error !== undefined) throw new Error(`${label} ${name}: ${result.error}`);
      return result.value as T;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const answer = nextMessage(child, 'stopped', 30_000);
      child.send({ type: 'stop' } satisfies ParentMessage);
      try {
        await answer;
        await exited;
      } finally {
        if (child.exitCode === null) child.kill();
      }
    },
  };
}
