import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig } from '../../src/config/load-config';
import { repoRoot, runOk } from './engine';
import { shutdownBudgetSeconds } from './limits';

const folder = join(repoRoot, 'deploy', 'kubernetes');
const manifestFiles = readdirSync(folder).filter(
  (file) => file.endsWith('.yaml') && file !== 'kustomization.yaml',
);

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } };
}

interface Container {
  image: string;
  ports: { name: string; containerPort: number }[];
  env: EnvVar[];
  envFrom: { configMapRef?: { name: string } }[];
  volumeMounts: { name: string; mountPath: string }[];
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  securityContext: {
    runAsNonRoot: boolean;
    readOnlyRootFilesystem: boolean;
    allowPrivilegeEscalation: boolean;
    capabilities: { drop: string[] };
  };
}

interface Manifest {
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec?: {
    replicas?: number;
    minReplicas?: number;
    minAvailable?: number;
    selector?: { matchLabels?: Record<string, string> } & Record<string, string>;
    scaleTargetRef?: { kind: string; name: string };
    ports?: { targetPort: string }[];
    template?: {
      metadata: { labels: Record<string, string> };
      spec: {
        terminationGracePeriodSeconds: number;
        securityContext: { runAsNonRoot: boolean; runAsUser: number };
        containers: Container[];
        volumes: { name: string; configMap?: { name: string } }[];
      };
    };
  };
}

const manifests = manifestFiles.flatMap((file) =>
  parseAllDocuments(readFileSync(join(folder, file), 'utf8')).map((doc) => doc.toJS() as Manifest),
);
const find = (kind: string, name = 'avaturn-broker') => {
  const manifest = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (manifest === undefined) throw new Error(`no ${kind} ${name}`);
  return manifest;
};
const deployment = find('Deployment');
const pod = deployment.spec!.template!;
const container = pod.spec.containers[0]!;
const secret = find('Secret');

describe('deploy/kubernetes', () => {
  it('is valid against the Kubernetes API schemas (kubernetes-models, offline)', async () => {
    const tsx = join(repoRoot, 'node_modules', '.bin', 'tsx');
    const validator = join(__dirname, 'validate-kubernetes.mts');
    const output = await runOk(tsx, [validator, ...manifestFiles.map((file) => join(folder, file))]);
    const results = JSON.parse(output) as { kind: string; error?: string }[];
    expect(results.filter((r) => r.error !== undefined)).toEqual([]);
    expect(results.map((r) => r.kind).sort()).toEqual(
      [
        'ConfigMap',
        'ConfigMap',
        'Deployment',
        'HorizontalPodAutoscaler',
        'PodDisruptionBudget',
        'Secret',
        'Service',
      ].sort(),
    );
  });

  it('applies everything with kustomize except the example Secret', () => {
    const kustomization = parse(readFileSync(join(folder, 'kustomization.yaml'), 'utf8')) as {
      resources: string[];
    };
    expect([...kustomization.resources].sort()).toEqual(
      manifestFiles.filter((f) => f !== 'secret.example.yaml').sort(),
    );
  });

  it('runs 2 replicas, probing /healthz for liveness and /readyz for readiness on the image port', () => {
    expect(deployment.spec?.replicas).toBe(2);
    expect(container.ports).toEqual([{ name: 'http', containerPort: 8080 }]);
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
  });

  it('gives a pod longer than the drain plus the shutdown budget to stop', () => {
    const drainMs = Number(container.env.find((v) => v.name === 'SHUTDOWN_DRAIN_MS')?.value);
    expect(drainMs).toBeGreaterThan(0);
    expect(pod.spec.terminationGracePeriodSeconds).toBeGreaterThan(drainMs / 1000 + shutdownBudgetSeconds());
  });

  it('runs as the image user, non-root, read-only, without capabilities or privilege escalation', () => {
    expect(pod.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    expect(container.securityContext).toEqual({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
  });

  it('requests and limits CPU and memory', () => {
    for (const bound of [container.resources.requests, container.resources.limits]) {
      expect(Object.keys(bound).sort()).toEqual(['cpu', 'memory']);
    }
  });

  it('takes every key and the Redis URL from the Secret, whose example holds placeholders only', () => {
    const fromSecret = container.env.filter((v) => v.valueFrom?.secretKeyRef !== undefined);
    expect(fromSecret.map((v) => v.name).sort()).toEqual(
      [
        'ADMIN_TOKEN',
        'AVATURN_API_KEY',
        'CARTESIA_API_KEY',
        'EXTERNAL_ENGINE_SIGNING_KEY',
        'METRICS_TOKEN',
        'OPENAI_API_KEY',
        'REDIS_URL',
      ].sort(),
    );
    for (const { name, valueFrom } of fromSecret) {
      expect(valueFrom?.secretKeyRef).toMatchObject({ name: secret.metadata.name, key: name });
      expect(secret.stringData?.[name]).toContain('replace-with');
    }
    expect(secret.stringData?.REDIS_URL).toMatch(/^rediss:\/\//);
    expect(
      container.env.filter((v) => /KEY|SECRET|TOKEN|REDIS/.test(v.name) && v.value !== undefined),
    ).toEqual([]);
  });

  it('mounts the profiles file from a ConfigMap, and the example configuration starts a broker', () => {
    const profilesFile = container.env.find((v) => v.name === 'PROFILES_FILE')?.value ?? '';
    const mount = container.volumeMounts.find((m) => profilesFile.startsWith(`${m.mountPath}/`));
    const volume = pod.spec.volumes.find((v) => v.name === mount?.name);
    const profiles = find('ConfigMap', volume?.configMap?.name ?? '?');
    const fileName = profilesFile.slice(`${mount?.mountPath}/`.length);
    expect(Object.keys(profiles.data ?? {})).toContain(fileName);

    const settings = find('ConfigMap', container.envFrom[0]?.configMapRef?.name ?? '?');
    const env = {
      ...settings.data,
      ...secret.stringData,
      ...Object.fromEntries(container.env.filter((v) => v.value !== undefined).map((v) => [v.name, v.value])),
    };
    const config = loadConfig(env, { readFile: () => profiles.data![fileName]! });
    expect(config.redis).toEqual({ mode: 'standalone', url: secret.stringData?.REDIS_URL });
    expect(Object.keys(config.profiles)).toContain('default');
  });

  it('exposes the pods through a Service, keeps one up through disruptions, and autoscales from 2', () => {
    const labels = pod.metadata.labels;
    expect(find('Service').spec).toMatchObject({ selector: labels, ports: [{ targetPort: 'http' }] });
    expect(find('PodDisruptionBudget').spec).toMatchObject({
      minAvailable: 1,
      selector: { matchLabels: labels },
    });
    const hpa = find('HorizontalPodAutoscaler').spec;
    expect(hpa?.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: deployment.metadata.name });
    expect(hpa?.minReplicas).toBe(deployment.spec?.replicas);
  });
});
