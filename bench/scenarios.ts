import { SignJWT } from 'jose';
import { Agent, request, type Dispatcher } from 'undici';
import type { Config } from '../src/config/types';
import type { Simulator } from '../src/simulator';
import { avaturnCreateRequest } from '../src/upstreams/avaturn-create-request';
import { clientSecretRequest } from '../src/upstreams/openai-minter';
import type { AvaturnCreateRequest } from '../src/upstreams/types';
import type { Iteration } from './load';
import { benchProfiles, type BenchProfile } from './world';

export type ScenarioKind = 'baseline' | 'broker' | 'auth-reject';

export interface Scenario {
  name: string;
  kind: ScenarioKind;
  profile?: BenchProfile;
  /** The baseline this scenario's latency is compared with. */
  baseline?: string;
  iteration: Iteration;
}

type Engine = AvaturnCreateRequest['conversation_engine'];

/** A keep-alive pool, one connection per worker, like the broker's own upstream pool. */
export const createPool = (connections: number) => new Agent({ connections, keepAliveTimeout: 30_000 });

async function call(
  pool: Dispatcher,
  method: 'POST' | 'DELETE',
  url: string,
  expected: number,
  headers: Record<string, string>,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const res = await request(url, {
    method,
    dispatcher: pool,
    headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.body.text();
  if (res.statusCode !== expected) {
    throw new Error(
      `${method} ${new URL(url).pathname.replace(/[0-9a-f-]{36}$/, ':id')}: ${res.statusCode}, expected ${expected}`,
    );
  }
  return text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
}

function field(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (typeof value !== 'string') throw new Error(`response without ${name}`);
  return value;
}

/** The broker's upstream sequence, sent by the client itself: mint, create, terminate. */
export function baselineIteration(
  sim: Simulator,
  config: Config,
  profileName: BenchProfile,
  pool: Dispatcher,
): Iteration {
  const profile = config.profiles[benchProfiles[profileName]];
  if (!profile) throw new Error(`no profile for ${profileName}`);
  const avaturnAuth = { authorization: `Bearer ${sim.keys.avaturn}` };

  async function mint(): Promise<Engine> {
    const engine = profile!.engine;
    if (engine.type === 'openai-realtime') {
      const auth = { authorization: `Bearer ${sim.keys.openai}` };
      const body = clientSecretRequest(engine);
      const answer = await call(pool, 'POST', `${sim.url}/v1/realtime/client_secrets`, 200, auth, body);
      return { type: 'openai-realtime', client_secret: field(answer, 'value') };
    }
    if (engine.type !== 'cartesia') throw new Error(`no baseline for the ${engine.type} engine`);
    const headers = {
      authorization: `Bearer ${sim.keys.cartesia}`,
      'cartesia-version': config.cartesia.version,
    };
    const body = { grants: { agent: true }, expires_in: engine.tokenTtlSeconds };
    const answer = await call(pool, 'POST', `${sim.url}/access-token`, 200, headers, body);
    return { type: 'cartesia', access_token: field(answer, 'token'), agent_id: engine.agentId };
  }

  return {
    requests: 3,
    async run(recorder) {
      const sessionId = await recorder.time('create', async () => {
        const engine = await mint();
        const body = avaturnCreateRequest(profile, engine);
        return field(
          await call(pool, 'POST', `${sim.url}/api/v1/sessions`, 200, avaturnAuth, body),
          'session_id',
        );
      });
      await recorder.time('end', () =>
        call(pool, 'DELETE', `${sim.url}/api/v1/sessions/${sessionId}`, 200, avaturnAuth),
      );
    },
  };
}

/** POST /session then DELETE /session/:id, each iteration as the next of many users. */
export function brokerIteration(
  brokerUrl: string,
  tokens: string[],
  profile: BenchProfile,
  pool: Dispatcher,
): Iteration {
  return {
    requests: 2,
    async run(recorder, n) {
      const auth = { authorization: tokens[n % tokens.length]! };
      const created = await recorder.time('create', () =>
        call(pool, 'POST', `${brokerUrl}/session`, 201, auth, { profile: benchProfiles[profile] }),
      );
      const sessionId = field(created, 'session_id');
      await recorder.time('end', () => call(pool, 'DELETE', `${brokerUrl}/session/${sessionId}`, 204, auth));
    },
  };
}

/** A well-formed JWT signed with the wrong key: the broker must answer 401 without any upstream call. */
export async function authRejectIteration(brokerUrl: string, pool: Dispatcher): Promise<Iteration> {
  const forged = await new SignJWT({ sub: 'mallory' })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode('not-the-broker-secret-but-long-enough-000'));
  const auth = { authorization: `Bearer ${forged}` };
  return {
    requests: 1,
    async run(recorder) {
      await recorder.time('create', () =>
        call(pool, 'POST', `${brokerUrl}/session`, 401, auth, { profile: benchProfiles.openai }),
      );
    },
  };
}
