import '../../src/node-version';
import { engineVariable, imageVariable, run } from './engine';
import { startPodman, type Podman } from './podman';

declare global {
  var containerCheckPodman: Podman | undefined;
}

const defaultState = '/var/tmp/avaturn-broker-containers';

async function answers(command: string, args: string[]): Promise<boolean> {
  return run(command, args).then(
    (result) => result.code === 0,
    () => false,
  );
}

/** A Docker engine when one answers; otherwise podman, set up as test/container/README.md says. */
export default async function globalSetup(): Promise<void> {
  if (!(await answers('docker-compose', ['version']))) {
    throw new Error(
      'the container check needs docker-compose (Compose v1): apt-get install docker-compose, or run bash .ci/run',
    );
  }
  if (await answers('docker', ['info'])) {
    process.env[engineVariable] = 'docker';
    process.env[imageVariable] = 'avaturn-broker:container-check';
    if (await answers('docker', ['compose', 'version'])) process.env.CONTAINER_CHECK_COMPOSE_V2 = '1';
    return;
  }
  if (!(await answers('podman', ['--version']))) {
    throw new Error(
      'the container check needs a Docker engine or podman: run bash .ci/run, which installs podman',
    );
  }
  const podman = await startPodman(process.env.CONTAINER_CHECK_STATE ?? defaultState);
  Object.assign(process.env, podman.env);
  process.env[engineVariable] = 'podman';
  process.env[imageVariable] = 'localhost/avaturn-broker:container-check';
  globalThis.containerCheckPodman = podman;
}
