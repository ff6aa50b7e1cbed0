import type { SimFault } from '../../src/simulator';
import type { TestApp } from '../helpers/build-test-app';
import type { ReplyFault } from '../helpers/tcp-proxy';
import { buildWorld, expectAccountedFor, storeKinds, type StoreKind, type World } from '../helpers/world';

/**
 * Every upstream fault and every store fault, on each store: the answer has the contract's status
 * and code, and once the fault clears the simulator's ledger and the registry agree (see
 * expectAccountedFor). A create whose Avaturn answer never arrives although Avaturn did create the
 * session is left out: the broker never learns that id (docs/how-it-works.md says so), and Avaturn ends
 * such a session after user_absent_timeout since no browser joins.
 */
interface Case {
  name: string;
  /** The faults go in while the user already holds a session (policy replace-oldest, cap 1). */
  replacing?: boolean;
  profile?: 'support';
  /** Injected until cleared unless they say how many times. */
  faults?: SimFault[];
  /** Redis only: what the relay does to the first command holding these bytes, or Redis away. */
  store?: ReplyFault | 'down';
  status: number;
  code?: string;
}

const always = 0;
const upstreamCases: Case[] = [
  {
    name: 'OpenAI answers 500',
    faults: [{ route: 'openai.mint', status: 500 }],
    status: 503,
    code: 'upstream-unavailable',
  },
  {
    name: 'OpenAI answers 401',
    faults: [{ route: 'openai.mint', status: 401 }],
    status: 502,
    code: 'upstream-error',
  },
  {
    name: 'OpenAI hangs',
    faults: [{ route: 'openai.mint', hang: true }],
    status: 504,
    code: 'upstream-timeout',
  },
  {
    name: 'OpenAI resets',
    faults: [{ route: 'openai.mint', reset: true }],
    status: 503,
    code: 'upstream-unavailable',
  },
  {
    name: 'OpenAI answers an unusable body',
    faults: [{ route: 'openai.mint', status: 200, body: { value: 7 } }],
    status: 502,
    code: 'upstream-error',
  },
  {
    name: 'Cartesia answers 500',
    profile: 'support',
    faults: [{ route: 'cartesia.mint', status: 500 }],
    status: 503,
    code: 'upstream-unavailable',
  },
  {
    name: 'Cartesia answers 429',
    profile: 'support',
    faults: [{ route: 'cartesia.mint', status: 429, retryAfter: '0' }],
    status: 503,
    code: 'upstream-unavailable',
  },
  {
    name: 'Avaturn answers 500 on create',
    faults: [{ route: 'avaturn.create', status: 500 }],
    status: 503,
    code: 'upstream-unavailable',
  },
  {
    name: 'Avaturn answers 422 on create',
    faults: [{ route: 'avaturn.create', status: 422 }],
    status: 502,
    code: 'upstream-error',
  },
  {
    name: 'Avaturn hangs on create',
    faults: [{ route: 'avaturn.create', hang: true }],
    status: 504,
    code: 'upstream-timeout',
  },
  {
    name: 'Avaturn answers an unusable body on create',
    faults: [{ route: 'avaturn.create', status: 200, body: { session: 'x' } }],
    status: 502,
    code: 'upstream-error',
  },
  {
    name: 'Avaturn answers 500 on delete',
    replacing: true,
    faults: [{ route: 'avaturn.terminate', status: 500 }],
    status: 503,
    code: 'upstream-unavailable',
  },
  {
    name: 'Avaturn answers 401 on delete',
    replacing: true,
    faults: [{ route: 'avaturn.terminate', status: 401 }],
    status: 503,
    code: 'upstream-unavailable',
  },
  {
    name: 'Avaturn hangs on delete',
    replacing: true,
    faults: [{ route: 'avaturn.terminate', hang: true }],
    status: 503,
    code: 'upstream-unavailable',
  },
  {
    name: 'Avaturn deletes but the answer is lost',
    replacing: true,
    faults: [{ route: 'avaturn.terminate', reset: true, afterEffect: true, times: 1 }],
    status: 201,
  },
];

const reserveBytes = 'replace-oldest';
const commitBytes = '"sessionId"';
const storeCases: Case[] = [
  {
    name: 'the reserve reply is late',
    replacing: true,
    store: { match: reserveBytes, action: 'delay', ms: 1_300 },
    status: 201,
  },
  {
    name: 'the reserve reply is lost',
    replacing: true,
    store: { match: reserveBytes, action: 'cut' },
    status: 201,
  },
  {
    name: 'the commit reply is late',
    store: { match: commitBytes, action: 'delay', ms: 1_300 },
    status: 201,
  },
  { name: 'the commit reply is lost', store: { match: commitBytes, action: 'cut' }, status: 201 },
  { name: 'Redis is away', replacing: true, store: 'down', status: 503, code: 'not-ready' },
];

const casesFor = (kind: StoreKind) => (kind === 'redis' ? [...upstreamCases, ...storeCases] : upstreamCases);

describe.each(storeKinds)('the fault matrix (%s store)', (kind) => {
  let world: World;
  let t: TestApp;
  beforeEach(async () => {
    world = await buildWorld(kind, {
      env: {
        MAX_SESSIONS_PER_USER: '1',
        SESSION_LIMIT_POLICY: 'replace-oldest',
        UPSTREAM_TIMEOUT_MS: '300',
        SESSION_CREATE_DEADLINE_MS: '1500',
      },
    });
    t = world.t;
  });
  afterEach(() => world.dispose());

  const create = async (profile?: string) =>
    t.http
      .post('/session')
      .set('Authorization', await t.bearer('alice'))
      .send(profile === undefined ? {} : { profile });

  it.each(casesFor(kind).map((c) => [c.name, c] as const))('when %s', async (_name, c) => {
    if (c.replacing) expect((await create()).status).toBe(201);
    for (const fault of c.faults ?? []) t.sim.inject({ times: always, ...fault });
    if (c.store === 'down') await world.proxy!.cut();
    else if (c.store) world.proxy!.faultNext(c.store);

    const res = await create(c.profile);
    expect({ status: res.status, code: res.body.code }).toEqual({ status: c.status, code: c.code });
    if (c.status === 201) expect(Object.keys(res.body).sort()).toEqual(['expires_at', 'session_id', 'token']);

    t.sim.clearFaults();
    if (c.store === 'down') await world.proxy!.restore();
    await expectAccountedFor(t, 1);
  });
});
