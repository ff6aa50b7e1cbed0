import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { defaultSimKeys } from '../../src/simulator';
import { demoAudience, demoLimits } from '../../scripts/demo/start-demo';
import { repoRoot } from './engine';
import { defaultDrainSeconds, forbiddenHostPorts, shutdownBudgetSeconds } from './limits';

interface Service {
  image?: string;
  build?: string;
  profiles?: string[];
  command?: string[];
  ports?: string[];
  volumes?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition?: string; restart?: boolean }>;
  healthcheck?: { test?: string[]; start_interval?: string };
  stop_grace_period?: string;
  read_only?: boolean;
  cap_drop?: string[];
}

interface ComposeFile {
  name?: string;
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const text = readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8');
// `<<: *broker` merges the shared settings, as Compose itself does.
const compose = parse(text, { merge: true }) as ComposeFile;
const services = Object.entries(compose.services);

/** The value a `${VAR:-default}` takes when VAR is unset, as Compose interpolates it. */
const withDefaults = (value: string) => value.replace(/\$\{[A-Z0-9_]+:-([^}]*)\}/g, '$1');
/** The broker's variables in .env.example (COMPOSE_PROFILES is Compose's own). */
const envExampleVariables = [
  ...readFileSync(join(repoRoot, '.env.example'), 'utf8').matchAll(/^([A-Z][A-Z0-9_]*)=/gm),
]
  .map((m) => m[1]!)
  .filter((name) => name !== 'COMPOSE_PROFILES');

describe('docker-compose.yml', () => {
  it('is valid against the Compose Specification schema', () => {
    const { $schema: _draft, ...schema } = JSON.parse(
      readFileSync(join(__dirname, 'compose-spec.json'), 'utf8'),
    ) as Record<string, unknown>;
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats(ajv);
    const validate = ajv.compile(schema);
    validate(compose);
    expect(validate.errors ?? []).toEqual([]);
  });

  it('uses nothing Compose v1 1.29 rejects: no top-level name, no depends_on restart, no start_interval', () => {
    expect(compose.name).toBeUndefined();
    for (const [, service] of services) {
      expect(service.healthcheck?.start_interval).toBeUndefined();
      for (const dependency of Object.values(service.depends_on ?? {}))
        expect(dependency.restart).toBeUndefined();
    }
  });

  it('gives every service a healthcheck, and waits for healthy dependencies', () => {
    for (const [name, service] of services) {
      expect([name, service.healthcheck?.test?.[0]]).toEqual([name, 'CMD']);
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect([name, dependency, condition]).toEqual([name, dependency, 'service_healthy']);
      }
    }
    expect(compose.services.broker?.depends_on).toEqual({ redis: { condition: 'service_healthy' } });
  });

  it('runs the official redis:7-alpine, unpublished, and publishes none of the ports this kind of machine holds', () => {
    expect(compose.services.redis).toMatchObject({ image: 'redis:7-alpine' });
    expect(compose.services.redis?.ports).toBeUndefined();
    const hostPorts = services.flatMap(([, service]) =>
      (service.ports ?? []).map((port) => Number(withDefaults(port).split(':').at(-2))),
    );
    expect(hostPorts.length).toBeGreaterThan(0);
    expect(hostPorts.filter((port) => forbiddenHostPorts.includes(port))).toEqual([]);
  });

  it('runs Redis with persistence: an append-only file fsynced every second, in a volume, and noeviction', () => {
    const command = compose.services.redis?.command ?? [];
    const option = (name: string) => command[command.indexOf(name) + 1];
    expect(command[0]).toBe('redis-server');
    expect([option('--appendonly'), option('--appendfsync'), option('--maxmemory-policy')]).toEqual([
      'yes',
      'everysec',
      'noeviction',
    ]);
    expect(compose.services.redis?.volumes).toEqual(['redis-data:/data']);
    expect(compose.volumes).toHaveProperty('redis-data');
  });

  it('runs every other service from the one image built from the Dockerfile, read-only and without capabilities', () => {
    for (const [name, service] of services) {
      if (name === 'redis') continue;
      expect([name, service.image, service.build]).toEqual([
        name,
        '${BROKER_IMAGE:-avaturn-broker:latest}',
        '.',
      ]);
      expect([name, service.read_only, service.cap_drop]).toEqual([name, true, ['ALL']]);
    }
  });

  it('starts the broker by plain `up` once .env is copied from .env.example', () => {
    expect(compose.services.broker?.profiles).toEqual(['broker']);
    expect(readFileSync(join(repoRoot, '.env.example'), 'utf8')).toMatch(/^COMPOSE_PROFILES=broker$/m);
  });

  it('passes every variable of .env.example to the broker, from .env or the shell', () => {
    const environment = compose.services.broker?.environment ?? {};
    expect(Object.keys(environment).sort()).toEqual([...envExampleVariables].sort());
    const ownValues: Record<string, string> = {
      PORT: '8080',
      HOST: '0.0.0.0',
      REDIS_URL: '${REDIS_URL:-redis://redis:6379}',
    };
    for (const name of envExampleVariables) {
      expect([name, environment[name]]).toEqual([name, ownValues[name] ?? `\${${name}:-}`]);
    }
    expect(compose.services.broker?.profiles).toEqual(['broker']);
  });

  it('gives the broker longer than its drain and shutdown budget to stop', () => {
    const grace = Number(/^(\d+)s$/.exec(compose.services.broker?.stop_grace_period ?? '')?.[1]);
    expect(grace).toBeGreaterThan(defaultDrainSeconds() + shutdownBudgetSeconds());
  });

  it('has a demo profile wired to the simulator and the demo identity provider, needing no .env', () => {
    const demo = services.filter(([, service]) => service.profiles?.includes('demo')).map(([name]) => name);
    expect(demo.sort()).toEqual(['demo-app', 'demo-broker', 'simulator']);
    const env = compose.services['demo-broker']?.environment ?? {};
    expect(env).toMatchObject({
      AVATURN_API_KEY: defaultSimKeys.avaturn,
      OPENAI_API_KEY: defaultSimKeys.openai,
      CARTESIA_API_KEY: defaultSimKeys.cartesia,
      AUTH_AUDIENCE: demoAudience,
      AUTH_ISSUER: compose.services['demo-app']?.environment?.DEMO_IDP_URL,
      CORS_ORIGINS: compose.services['demo-app']?.environment?.DEMO_PAGE_URL,
      REDIS_URL: 'redis://redis:6379',
      ...demoLimits,
    });
    const fromDotenv = Object.values(env).flatMap((value) =>
      [...value.matchAll(/\$\{([A-Z0-9_]+)/g)].map((m) => m[1]),
    );
    expect(fromDotenv.filter((name) => !name?.startsWith('DEMO_'))).toEqual([]);
    expect(withDefaults(compose.services['demo-app']?.environment?.DEMO_PAGE_URL ?? '')).toBe(
      'http://127.0.0.1:5173',
    );
  });
});
