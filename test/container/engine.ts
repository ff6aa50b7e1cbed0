import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { listenOn } from '../helpers/serve';

export const repoRoot = join(__dirname, '..', '..');

/** What global-setup chose, handed to the test files through the environment. */
export interface Engine {
  kind: 'docker' | 'podman';
  /** The CLI: `docker` or `podman`. */
  cli: string;
  /** Compose v1, `docker-compose`, which the issue requires to accept the file. */
  composeV1: string;
  /** The compose that brings the stack up: `docker compose` (v2) with a Docker engine, else v1 on podman's socket. */
  compose: string[];
  /** Docker runs healthchecks by itself; podman without systemd only when asked (`podman healthcheck run`). */
  runsHealthchecks: boolean;
  image: string;
}

export const engineVariable = 'CONTAINER_CHECK_ENGINE';
export const imageVariable = 'CONTAINER_CHECK_IMAGE';

export function engine(): Engine {
  const kind = process.env[engineVariable];
  const image = process.env[imageVariable];
  if ((kind !== 'docker' && kind !== 'podman') || image === undefined)
    throw new Error(
      'run the container check with `npm run test:container` (its global setup picks the engine)',
    );
  const composeV2 = process.env.CONTAINER_CHECK_COMPOSE_V2 === '1';
  return {
    kind,
    cli: kind,
    composeV1: 'docker-compose',
    compose: kind === 'docker' && composeV2 ? ['docker', 'compose'] : ['docker-compose'],
    runsHealthchecks: kind === 'docker',
    image,
  };
}

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
}

/** Runs a command to its end and hands back everything; never throws for a non-zero exit. */
export function run(command: string, args: string[], options: RunOptions = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? repoRoot,
      env: options.env ?? process.env,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Like run, but a non-zero exit is an error that quotes the end of the command's output. */
export async function runOk(command: string, args: string[], options: RunOptions = {}): Promise<string> {
  const result = await run(command, args, options);
  if (result.code !== 0) {
    const tail = `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-25).join('\n');
    throw new Error(`${command} ${args.join(' ')} exited ${result.code}:\n${tail}`);
  }
  return result.stdout;
}

/** A port nobody listens on right now, from the OS. */
export async function freePort(): Promise<number> {
  const { port, close } = await listenOn(createServer());
  await close();
  return port;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` returns a value; its last error explains a timeout. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 120_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    await sleep(500);
  }
  const why = lastError instanceof Error ? `: ${lastError.message}` : '';
  throw new Error(`timed out waiting for ${what}${why}`);
}

export interface ContainerState {
  status: string;
  exitCode: number;
  health?: string;
}

export async function containerState(cli: string, name: string): Promise<ContainerState> {
  const [inspected] = JSON.parse(await runOk(cli, ['container', 'inspect', name])) as {
    State: {
      Status: string;
      ExitCode: number;
      Health?: { Status: string };
      Healthcheck?: { Status: string };
    };
  }[];
  if (inspected === undefined) throw new Error(`no container ${name}`);
  const { State } = inspected;
  // podman 4 reports the health under Healthcheck, Docker and newer podman under Health.
  const health = (State.Health ?? State.Healthcheck)?.Status;
  return { status: State.Status, exitCode: State.ExitCode, ...(health ? { health } : {}) };
}

/**
 * Until stopped, runs the healthchecks of the running containers `filter` selects every 2 s, as
 * the systemd timers podman relies on would; with Docker it does nothing, Docker runs its own.
 */
export function driveHealthchecks(current: Engine, filter: string): () => Promise<void> {
  if (current.runsHealthchecks) return async () => {};
  let running = true;
  const loop = (async () => {
    while (running) {
      const ids = (await run(current.cli, ['ps', '-q', '--filter', filter])).stdout
        .split('\n')
        .filter(Boolean);
      await Promise.all(ids.map((id) => run(current.cli, ['healthcheck', 'run', id])));
      await sleep(2000);
    }
  })();
  return async () => {
    running = false;
    await loop;
  };
}

/** The tag of the base image the runtime stage starts from: the Dockerfile's last FROM. */
export function baseImage(): string {
  const froms = [...readFileSync(join(repoRoot, 'Dockerfile'), 'utf8').matchAll(/^FROM\s+(\S+)/gm)].map(
    (m) => m[1],
  );
  const last = froms.at(-1);
  if (last === undefined) throw new Error('the Dockerfile has no FROM');
  return last;
}
