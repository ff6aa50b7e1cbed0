import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { baseImage, repoRoot, run, runOk, waitFor } from './engine';

/**
 * Rootful podman with all of its state in one private folder (images are cached there between
 * runs), configured for a machine without systemd, and a Docker-compatible API socket for Compose.
 * The facts behind each setting are in test/container/README.md.
 */
export interface Podman {
  env: Record<string, string>;
  stop(): Promise<void>;
}

function writeStorageConf(state: string): string {
  const path = join(state, 'storage.conf');
  writeFileSync(
    path,
    `[storage]\ndriver = "overlay"\ngraphroot = "${state}/storage"\nrunroot = "${state}/run"\n`,
  );
  return path;
}

interface Limits {
  nofile: number;
  nproc: number;
}

/** Without `limits`, podman's defaults, which only serve to start the service that reads them. */
function writeContainersConf(state: string, limits?: Limits): string {
  const path = join(state, 'containers.conf');
  // Without CAP_SYS_RESOURCE a container may not get more than podman itself has.
  const ulimits = limits
    ? `default_ulimits = ["nofile=${limits.nofile}:${limits.nofile}", "nproc=${limits.nproc}:${limits.nproc}"]\n`
    : '';
  writeFileSync(
    path,
    `[containers]
${ulimits}log_driver = "k8s-file"

[engine]
# crun 1.8 fails here with "cgroups in hybrid mode not supported".
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "${state}/tmp/events.log"
tmp_dir = "${state}/tmp"

[network]
network_backend = "netavark"
network_config_dir = "${state}/networks"
`,
  );
  return path;
}

function startService(socket: string, env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn('podman', ['system', 'service', '--time=0', `unix://${socket}`], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.resume();
  return child;
}

function ping(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath: socket, path: '/_ping' }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once('error', () => resolve(false));
    req.end();
  });
}

async function stopService(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** The limits podman runs with (it lowers some at start), read from a throwaway service. */
async function podmanLimits(state: string, env: NodeJS.ProcessEnv): Promise<Limits> {
  const socket = join(state, 'tmp', `probe-${process.pid}.sock`);
  const probe = startService(socket, env);
  try {
    await waitFor('podman to start', async () => ((await ping(socket)) ? true : undefined), 30_000);
    const limits = readFileSync(`/proc/${probe.pid}/limits`, 'utf8');
    const hard = (name: string) => {
      const line = limits.split('\n').find((l) => l.startsWith(name));
      const value = Number(line?.trim().split(/\s+/).at(-2));
      if (!Number.isInteger(value)) throw new Error(`cannot read "${name}" of podman`);
      return value;
    };
    return { nofile: hard('Max open files'), nproc: hard('Max processes') };
  } finally {
    await stopService(probe);
  }
}

export async function startPodman(state: string): Promise<Podman> {
  for (const dir of ['storage', 'run', 'tmp', 'networks']) mkdirSync(join(state, dir), { recursive: true });
  const env: Record<string, string> = {
    CONTAINERS_STORAGE_CONF: writeStorageConf(state),
    CONTAINERS_CONF: writeContainersConf(state),
  };
  const withEnv = () => ({ ...process.env, ...env });
  writeContainersConf(state, await podmanLimits(state, withEnv()));

  const nodeVersion = /^node:(\d+\.\d+\.\d+)-/.exec(baseImage())?.[1];
  if (nodeVersion === undefined)
    throw new Error(`the Dockerfile's base ${baseImage()} names no exact Node version`);
  const standIns = join(repoRoot, 'test', 'container', 'stand-in-images.sh');
  process.stdout.write(await runOk('bash', [standIns, nodeVersion], { env: withEnv() }));

  const socket = join(state, 'tmp', `service-${process.pid}.sock`);
  const service = startService(socket, withEnv());
  await waitFor('the podman API socket', async () => ((await ping(socket)) ? true : undefined), 30_000);
  env.DOCKER_HOST = `unix://${socket}`;
  return {
    env,
    stop: async () => {
      await stopService(service);
      rmSync(socket, { force: true });
      // Every change of the sources leaves the previous build's layers behind; keep a day's worth as cache.
      await run('podman', ['image', 'prune', '-f', '--filter', 'until=24h'], { env: withEnv() });
    },
  };
}
