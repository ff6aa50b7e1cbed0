import request from 'supertest';
import { loadConfig } from '../../src/config/load-config';
import { createApp, type AppDeps, type BrokerApp } from '../../src/http/app';
import { openApiDocument } from '../../src/http/openapi';
import { createLogger } from '../../src/logger';
import { brokerEnvFor, startSimulator, type Simulator } from '../../src/simulator';
import { testProfiles } from '../fixtures/profiles';
import { signToken, testJwtSecret } from '../fixtures/tokens';
import { MemoryLog } from './memory-log';
import { assertConformance } from './openapi-conformance';
import { recordResponses, type RecordedResponse } from './response-recorder';

export interface TestAppOptions {
  env?: Record<string, string>;
  /** A profiles object written as PROFILES_FILE; `null` configures the env-only default profile. */
  profiles?: Record<string, unknown> | null;
  deps?: AppDeps;
  simulator?: Simulator;
}

export interface TestApp {
  broker: BrokerApp;
  sim: Simulator;
  logs: MemoryLog;
  env: Record<string, string>;
  http: ReturnType<typeof request>;
  /** A valid HS256 bearer header for `user`. */
  bearer(user: string, claims?: Record<string, unknown>): Promise<string>;
  /** Every answer the app wrote in full; `close()` checks each against the OpenAPI document. */
  responses: RecordedResponse[];
  close(): Promise<void>;
}

/**
 * The broker wired to a fresh simulator, logging to memory; every part real. Every answer it gives
 * is recorded, and `close()` fails when one breaks the OpenAPI document the app serves.
 */
export async function buildTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const sim = options.simulator ?? (await startSimulator());
  const logs = new MemoryLog();
  const profiles = options.profiles === undefined ? testProfiles : options.profiles;
  const env: Record<string, string> = {
    ...brokerEnvFor(sim),
    AUTH_JWT_SECRET: testJwtSecret,
    LOG_LEVEL: 'trace',
    RATE_LIMIT_PER_MINUTE: '1000',
    RATE_LIMIT_IP_PER_MINUTE: '1000',
    ...(profiles === null ? {} : { PROFILES_FILE: '/profiles.json' }),
    ...options.env,
  };
  const config = loadConfig(env, { readFile: () => JSON.stringify(profiles) });
  const broker = createApp(config, {
    logger: createLogger('trace', logs),
    queue: { intervalMs: 50, backoffBaseMs: 20, backoffMaxMs: 200 },
    fallbackDelaysMs: [20, 40],
    ...options.deps,
  });
  const responses = recordResponses(broker.app);
  return {
    broker,
    sim,
    logs,
    env,
    http: request(broker.app),
    bearer: async (user, claims = {}) => `Bearer ${await signToken({ sub: user, ...claims })}`,
    responses,
    async close() {
      await broker.close();
      if (options.simulator === undefined) await sim.close();
      assertConformance(openApiDocument(config), responses);
    },
  };
}

/**
 * A fresh test app for every test of the enclosing `describe` (or, with `once`, one for all of
 * them), built by `buildTestApp` and closed after it. The object returned is the current app: use
 * it inside tests and hooks, not while the tests are being declared. Jest runs after-hooks in the
 * order they are declared, so this app closes before anything a later hook set up on it.
 */
export function useTestApp(options: TestAppOptions = {}, { once = false }: { once?: boolean } = {}): TestApp {
  const current = {} as TestApp;
  let built: TestApp | undefined;
  const setUp = async () => {
    built = await buildTestApp(options);
    Object.assign(current, built);
  };
  const tearDown = async () => {
    const closing = built;
    built = undefined;
    await closing?.close();
  };
  if (once) {
    beforeAll(setUp);
    afterAll(tearDown);
  } else {
    beforeEach(setUp);
    afterEach(tearDown);
  }
  return current;
}

/** Creates a session for `user` through POST /session, failing loudly unless it is a 201; its id. */
export async function createSessionFor(t: TestApp, user: string): Promise<string> {
  const res = await t.http
    .post('/session')
    .set('Authorization', await t.bearer(user))
    .send({});
  expect(res.status).toBe(201);
  return res.body.session_id as string;
}

export function expectProblem(
  res: Pick<request.Response, 'status' | 'headers' | 'body'>,
  status: number,
  code: string,
  /** Extension members the problem must carry (and no others). */
  extensions: Record<string, unknown> = {},
): void {
  expect({ status: res.status, code: res.body?.code }).toEqual({ status, code });
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body).toEqual({
    type: `/problems/${code}`,
    title: expect.any(String),
    status,
    code,
    detail: expect.any(String),
    request_id: res.headers['x-request-id'],
    ...extensions,
  });
}
