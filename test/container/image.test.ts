import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { defaultSimKeys } from '../../src/simulator';
import type { SimLedger } from '../../src/simulator/types';
import { signToken, testJwtSecret } from '../fixtures/tokens';
import { buildImage, inspectImage } from './image';
import {
  baseImage,
  containerState,
  driveHealthchecks,
  engine,
  freePort,
  repoRoot,
  run,
  runOk,
  waitFor,
  type Engine,
} from './engine';

const current: Engine = engine();
const runId = Math.random().toString(36).slice(2, 8);
const label = `avaturn-broker-check=${runId}`;
const packageJson = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  devDependencies: Record<string, string>;
};

/** Runs a one-off command in a fresh container of the image, as its own user. */
const inImage = (command: string[]) =>
  runOk(current.cli, [
    'run',
    '--rm',
    '--no-healthcheck',
    '--entrypoint',
    command[0]!,
    current.image,
    ...command.slice(1),
  ]);

/** Which of these paths, relative to the image's /app, exist in it. */
const existingInImage = async (paths: string[]) =>
  JSON.parse(
    await inImage([
      'node',
      '-e',
      'console.log(JSON.stringify(process.argv.slice(1).filter((p) => require("fs").existsSync(p))))',
      ...paths,
    ]),
  ) as string[];

describe('the image built from the Dockerfile', () => {
  beforeAll(() => buildImage(current));

  it('runs node dist/server.js under tini as the node user, exposes 8080 and checks /healthz with fetch', async () => {
    const { Config } = await inspectImage(current, current.image);
    expect(Config.User).toBe('node');
    expect(Config.Entrypoint).toEqual(['/usr/bin/tini', '--']);
    expect(Config.Cmd).toEqual(['node', 'dist/server.js']);
    expect(Object.keys(Config.ExposedPorts ?? {})).toEqual(['8080/tcp']);
    expect(Config.Healthcheck?.Test?.[0]).toBe('CMD');
    expect(Config.Healthcheck?.Test?.join(' ')).toMatch(/^CMD node -e fetch\(.*\/healthz/);
    expect(Config.Env).toContain('NODE_ENV=production');
  });

  it('holds no devDependency, no TypeScript source, no .env and no secret in its environment', async () => {
    const devDependencies = Object.keys(packageJson.devDependencies);
    expect(await existingInImage(devDependencies.map((name) => `node_modules/${name}`))).toEqual([]);
    expect(devDependencies).toEqual(
      expect.arrayContaining(['typescript', 'jest', 'tsx', 'esbuild', 'playwright-core']),
    );

    const sources = await inImage([
      'find',
      '/app',
      '-path',
      '/app/node_modules',
      '-prune',
      '-o',
      '-name',
      '*.ts',
      '!',
      '-name',
      '*.d.ts',
      '-print',
    ]);
    expect(sources.trim()).toBe('');
    expect((await inImage(['ls', '-A', '/app'])).trim().split('\n').sort()).toEqual([
      'dist',
      'node_modules',
      'package.json',
    ]);

    const { Config } = await inspectImage(current, current.image);
    const names = (Config.Env ?? []).map((entry) => entry.split('=')[0]!);
    expect(names.filter((name) => /KEY|SECRET|TOKEN|PASSWORD|CREDENTIAL/i.test(name))).toEqual([]);
  });

  it('adds at most 150 MB to its base image', async () => {
    const [image, base] = await Promise.all([
      inspectImage(current, current.image),
      inspectImage(current, baseImage()),
    ]);
    const added = image.Size - base.Size;
    process.stdout.write(
      `image ${(image.Size / 1e6).toFixed(0)} MB, base ${(base.Size / 1e6).toFixed(0)} MB, added ${(added / 1e6).toFixed(0)} MB\n`,
    );
    expect(added).toBeLessThanOrEqual(150e6);
    const stated = Number(
      /adds \*\*(\d+) MB\*\*/.exec(readFileSync(join(repoRoot, 'docs', 'operations.md'), 'utf8'))?.[1],
    );
    expect(Math.abs(added / 1e6 - stated)).toBeLessThanOrEqual(10);
  });

  it('holds every entry point the README, docs/operations.md and docker-compose.yml start with node', async () => {
    const named = ['README.md', 'docs/operations.md', 'docker-compose.yml'].flatMap((file) =>
      [...readFileSync(join(repoRoot, file), 'utf8').matchAll(/node,? (dist\/[\w./-]+\.js)/g)].map(
        (m) => m[1]!,
      ),
    );
    const entries = [...new Set(named)].sort();
    expect(entries).toEqual(
      ['dist/demo/scripts/demo-app.js', 'dist/server.js', 'dist/simulator/main.js'].sort(),
    );
    expect(await existingInImage(entries)).toEqual(entries);
  });
});

describe('the build context, as .dockerignore leaves it', () => {
  it('holds the sources the Dockerfile copies, and no .git, node_modules, .env, dist, test-output or bench results', async () => {
    const context = mkdtempSync(join(tmpdir(), 'avaturn-context-'));
    const probe = `localhost/avaturn-broker-context:${runId}`;
    const kept = [
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'tsconfig.build.json',
      'tsconfig.demo.json',
      'src/server.ts',
      'scripts/demo.ts',
      'examples/web/index.html',
    ];
    const left = [
      '.git/HEAD',
      '.env',
      '.env.production',
      'node_modules/x/index.js',
      'examples/web/node_modules/y.js',
      'dist/server.js',
      'test-output/run.log',
      'bench/results/latest.json',
      '.tools/node',
      'coverage/lcov.info',
      'test/http/auth.test.ts',
      'deploy/kubernetes/secret.example.yaml',
      'src/.env',
      'npm-debug.log',
    ];
    try {
      for (const file of [...kept, ...left]) {
        mkdirSync(dirname(join(context, file)), { recursive: true });
        writeFileSync(join(context, file), 'probe');
      }
      copyFileSync(join(repoRoot, '.dockerignore'), join(context, '.dockerignore'));
      writeFileSync(join(context, 'Dockerfile.probe'), `FROM ${baseImage()}\nCOPY . /context\n`);
      const engineArgs = current.kind === 'podman' ? ['--pull=never'] : [];
      await runOk(current.cli, [
        'build',
        ...engineArgs,
        '-f',
        join(context, 'Dockerfile.probe'),
        '-t',
        probe,
        context,
      ]);
      const listed = await runOk(current.cli, [
        'run',
        '--rm',
        '--no-healthcheck',
        '--entrypoint',
        'find',
        probe,
        '/context',
        '-type',
        'f',
      ]);
      expect(
        listed
          .trim()
          .split('\n')
          .map((path) => path.replace('/context/', ''))
          .sort(),
      ).toEqual([...kept].sort());
    } finally {
      rmSync(context, { recursive: true, force: true });
      await run(current.cli, ['rmi', '-f', probe]);
    }
  });
});

describe('a broker container against a simulator container', () => {
  const network = `avaturn-check-${runId}`;
  const sim = `avaturn-check-sim-${runId}`;
  const broker = `avaturn-check-broker-${runId}`;
  let brokerUrl: string;
  let ledgerUrl: string;
  let bearer: string;

  const ledger = async () => (await (await fetch(ledgerUrl)).json()) as SimLedger;

  beforeAll(async () => {
    await buildImage(current);
    await runOk(current.cli, ['network', 'create', '--label', label, network]);
    const [simPort, brokerPort] = [await freePort(), await freePort()];
    await runOk(current.cli, [
      'run',
      '-d',
      '--name',
      sim,
      '--label',
      label,
      '--network',
      network,
      '--no-healthcheck',
      '-p',
      `127.0.0.1:${simPort}:4010`,
      '-e',
      'SIM_HOST=0.0.0.0',
      '-e',
      'SIM_PORT=4010',
      current.image,
      'node',
      'dist/simulator/main.js',
    ]);
    const simUrl = `http://${sim}:4010`;
    await runOk(current.cli, [
      'run',
      '-d',
      '--name',
      broker,
      '--label',
      label,
      '--network',
      network,
      '-p',
      `127.0.0.1:${brokerPort}:8080`,
      '-e',
      `AVATURN_API_KEY=${defaultSimKeys.avaturn}`,
      '-e',
      `AVATURN_BASE_URL=${simUrl}`,
      '-e',
      `OPENAI_API_KEY=${defaultSimKeys.openai}`,
      '-e',
      `OPENAI_BASE_URL=${simUrl}/v1`,
      '-e',
      `AUTH_JWT_SECRET=${testJwtSecret}`,
      '-e',
      'SHUTDOWN_DRAIN_MS=300',
      current.image,
    ]);
    brokerUrl = `http://127.0.0.1:${brokerPort}`;
    ledgerUrl = `http://127.0.0.1:${simPort}/_sim/ledger`;
    await waitFor('the broker to be ready', async () =>
      (await fetch(`${brokerUrl}/readyz`)).ok ? true : undefined,
    );
    await waitFor('the simulator', async () => ((await fetch(ledgerUrl)).ok ? true : undefined));
    bearer = `Bearer ${await signToken({ sub: 'container-check' })}`;
  });

  afterAll(async () => {
    await run(current.cli, ['rm', '-f', '-t', '0', sim, broker]);
    await run(current.cli, ['network', 'rm', network]);
  });

  it('creates a session (201, exactly three keys) and ends it (204); the ledger shows it live, then ended', async () => {
    const created = await fetch(`${brokerUrl}/session`, {
      method: 'POST',
      headers: { Authorization: bearer, 'Content-Type': 'application/json' },
      body: '{}',
    });
    expect(created.status).toBe(201);
    const body = (await created.json()) as Record<string, string>;
    expect(Object.keys(body).sort()).toEqual(['expires_at', 'session_id', 'token']);
    const sessionId = body.session_id!;

    const afterCreate = await ledger();
    expect(afterCreate.sessions).toEqual([expect.objectContaining({ sessionId, state: 'live' })]);
    expect(afterCreate.credentials).toEqual([expect.objectContaining({ usedBy: [sessionId] })]);

    const ended = await fetch(`${brokerUrl}/session/${sessionId}`, {
      method: 'DELETE',
      headers: { Authorization: bearer },
    });
    expect(ended.status).toBe(204);
    expect((await ledger()).sessions).toEqual([
      expect.objectContaining({ sessionId, state: 'ended', endedBy: 'delete' }),
    ]);
  });

  it('runs its process as a non-root user', async () => {
    const status = await runOk(current.cli, ['exec', broker, 'cat', '/proc/1/status']);
    const uid = /^Uid:\s+(\d+)/m.exec(status)?.[1];
    expect(uid).toBe('1000');
    expect((await runOk(current.cli, ['exec', broker, 'id', '-un'])).trim()).toBe('node');
  });

  it('turns healthy by its own HEALTHCHECK', async () => {
    const stopDriving = driveHealthchecks(current, `name=${broker}`);
    try {
      const health = await waitFor('a healthy broker', async () => {
        const { health } = await containerState(current.cli, broker);
        return health === 'healthy' ? health : undefined;
      });
      expect(health).toBe('healthy');
    } finally {
      await stopDriving();
    }
  });

  it('stops on SIGTERM within the drain and exits 0', async () => {
    await runOk(current.cli, ['stop', '-t', '10', broker]);
    const state = await containerState(current.cli, broker);
    expect(state).toMatchObject({ status: 'exited', exitCode: 0 });
    const logs = await run(current.cli, ['logs', broker]);
    expect(`${logs.stdout}${logs.stderr}`).toContain('shutting down');
  });
});
