import { runOk, type Engine } from './engine';

interface Healthcheck {
  Test?: string[];
}

export interface ImageInspect {
  Size: number;
  Config: {
    User?: string;
    Entrypoint?: string[];
    Cmd?: string[];
    Env?: string[];
    ExposedPorts?: Record<string, unknown>;
    Healthcheck?: Healthcheck;
  };
  /** podman 4 reports the healthcheck here, Docker under Config. */
  Healthcheck?: Healthcheck;
}

/** Builds the project's Dockerfile; podman must keep Docker's format, as OCI drops HEALTHCHECK. */
export async function buildImage(current: Engine): Promise<void> {
  const engineArgs = current.kind === 'podman' ? ['--format', 'docker', '--pull=never'] : [];
  await runOk(current.cli, ['build', ...engineArgs, '-t', current.image, '.']);
}

export async function inspectImage(current: Engine, image: string): Promise<ImageInspect> {
  const [inspected] = JSON.parse(await runOk(current.cli, ['image', 'inspect', image])) as ImageInspect[];
  if (inspected === undefined) throw new Error(`no image ${image}`);
  const healthcheck = inspected.Config.Healthcheck ?? inspected.Healthcheck;
  return {
    ...inspected,
    Config: { ...inspected.Config, ...(healthcheck ? { Healthcheck: healthcheck } : {}) },
  };
}
