import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import {
  exportJWK,
  exportSPKI,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';
import type request from 'supertest';
import { signToken, testJwtSecret } from '../fixtures/tokens';
import { buildTestApp, expectProblem, type TestApp, useTestApp } from '../helpers/build-test-app';
import { listenOn } from '../helpers/serve';
import type { AuthenticatorOptions } from '../../src/http/auth';

const issuer = 'https://idp.example';
const audience = 'avaturn-broker';
const now = () => Math.floor(Date.now() / 1000);
const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** An HS256 token with the test secret and an absolute `exp` (epoch seconds), or none at all. */
function hs256(claims: JWTPayload, exp: number | undefined): Promise<string> {
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt();
  return (exp === undefined ? jwt : jwt.setExpirationTime(exp)).sign(new TextEncoder().encode(testJwtSecret));
}

function expectUnauthenticated(t: TestApp, res: request.Response): void {
  expectProblem(res, 401, 'unauthenticated');
  expect(res.headers['www-authenticate']).toMatch(/^Bearer\b/);
  expect(t.sim.ledger().calls).toHaveLength(0);
}

interface SigningKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JWK;
  privateJwk: JWK;
}

async function signingKey(alg: SigningKey['alg'], kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicKey, jwk, privateJwk: { ...(await exportJWK(privateKey)), kid, alg } };
}

function signWith(key: SigningKey, claims: JWTPayload, kid = key.kid): Promise<string> {
  return new SignJWT({ iss: issuer, aud: audience, exp: now() + 300, ...claims })
    .setProtectedHeader({ alg: key.alg, kid })
    .setIssuedAt()
    .sign(key.privateKey);
}

/**
 * `hang` never answers, `fail` answers 500, `not-json` answers 200 with text, `oversized` answers a
 * valid key set padded past 64 KiB with a Content-Length, `endless` a key set whose padding never
 * ends (until 64 MiB, so that a broker reading it all still gets an answer).
 */
type JwksBehaviour = 'serve' | 'hang' | 'fail' | 'not-json' | 'oversized' | 'endless';

interface JwksServer {
  url: string;
  /** GETs of the key set so far. */
  hits: () => number;
  /** Body bytes the server managed to hand to the network. */
  sentBytes: () => number;
  keys: JWK[];
  behaviour: JwksBehaviour;
  close(): Promise<void>;
}

const endlessLimitBytes = 64 * 1024 * 1024;

/** Writes padding as fast as the client reads it, until the client goes or the limit is reached. */
async function writeEndless(res: ServerResponse, head: string, onSent: (bytes: number) => void) {
  const chunk = Buffer.alloc(64 * 1024, 'x');
  const write = (data: Buffer | string) => res.write(data, () => onSent(Buffer.byteLength(data)));
  write(head);
  const closed = once(res, 'close');
  for (let written = 0; written < endlessLimitBytes && !res.destroyed; written += chunk.length) {
    if (!write(chunk)) await Promise.race([once(res, 'drain'), closed]);
  }
  if (!res.destroyed) res.end('"}');
}

/** The identity provider's key set endpoint, counting fetches; it can also hang or fail. */
async function startJwksServer(keys: JWK[]): Promise<JwksServer> {
  let hits = 0;
  let sent = 0;
  const jwks: JwksServer = {
    url: '',
    hits: () => hits,
    sentBytes: () => sent,
    keys,
    behaviour: 'serve',
    close: () => server.close(),
  };
  const server = await listenOn((req, res) => {
    if (req.url !== '/.well-known/jwks.json') {
      res.writeHead(404).end();
      return;
    }
    hits += 1;
    const keySet = JSON.stringify({ keys: jwks.keys });
    switch (jwks.behaviour) {
      case 'hang':
        return;
      case 'fail':
        res.writeHead(500, { 'content-type': 'text/plain' }).end('identity provider is down');
        return;
      case 'not-json':
        res.writeHead(200, { 'content-type': 'application/json' }).end('<html>identity provider is down');
        return;
      case 'oversized':
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ keys: jwks.keys, padding: 'x'.repeat(100 * 1024) }));
        return;
      case 'endless':
        res.writeHead(200, { 'content-type': 'application/json' });
        void writeEndless(res, `${keySet.slice(0, -1)},"padding":"`, (bytes) => (sent += bytes));
        return;
      default:
        res.writeHead(200, { 'content-type': 'application/json' }).end(keySet);
    }
  });
  jwks.url = `${server.url}/.well-known/jwks.json`;
  return jwks;
}

describe('authentication with the HS256 shared secret', () => {
  const t = useTestApp();

  const post = (authorization?: string) => {
    const req = t.http.post('/session');
    return authorization === undefined ? req : req.set('Authorization', authorization);
  };

  describe('POST /session › without an Authorization header', () => {
    it('answers 401 with WWW-Authenticate: Bearer and calls no upstream', async () => {
      expectUnauthenticated(t, await post());
    });
  });

  describe('POST /session › with a scheme other than Bearer', () => {
    it.each([
      ['Basic', 'Basic YWxpY2U6cGFzc3dvcmQ='],
      ['Token', 'Token abc.def.ghi'],
      ['a bare token', 'TOKEN_WITHOUT_SCHEME'],
    ])('(%s) answers 401 and calls no upstream', async (_name, header) => {
      expectUnauthenticated(t, await post(header));
    });

    it('(a valid token under the Basic scheme) answers 401 and calls no upstream', async () => {
      const token = await signToken({ sub: 'alice' });
      expectUnauthenticated(t, await post(`Basic ${token}`));
    });
  });

  describe('POST /session › with the scheme written in another case', () => {
    it('accepts it: auth schemes are case-insensitive (RFC 9110)', async () => {
      const token = await signToken({ sub: 'alice' });
      expect((await post(`bearer ${token}`)).status).toBe(201);
    });
  });

  describe('POST /session › with a garbage bearer token', () => {
    it.each([
      ['empty', 'Bearer '],
      ['one segment', 'Bearer abcdef'],
      ['three junk segments', 'Bearer aaa.bbb.ccc'],
      [
        'non-JSON header',
        `Bearer ${Buffer.from('{oops').toString('base64url')}.${base64url({ sub: 'a' })}.sig`,
      ],
      ['spaces inside', 'Bearer a b.c'],
      ['over 8 KiB', `Bearer ${'a'.repeat(9000)}.${'b'.repeat(10)}.c`],
    ])('(%s) answers 401 and calls no upstream', async (_name, header) => {
      expectUnauthenticated(t, await post(header));
    });
  });

  describe('POST /session › with an expired token', () => {
    it('answers 401 once expiry is beyond the 30 s clock tolerance, and calls no upstream', async () => {
      const token = await hs256({ sub: 'alice' }, now() - 45);
      expectUnauthenticated(t, await post(`Bearer ${token}`));
    });

    it('accepts a token that expired within the 30 s clock tolerance', async () => {
      const token = await hs256({ sub: 'alice' }, now() - 10);
      const res = await post(`Bearer ${token}`);
      expect(res.status).toBe(201);
    });
  });

  describe('POST /session › with a token that has no exp claim', () => {
    it('answers 401 and calls no upstream', async () => {
      const token = await hs256({ sub: 'alice' }, undefined);
      expectUnauthenticated(t, await post(`Bearer ${token}`));
    });
  });

  describe('POST /session › with a token that names no user', () => {
    it.each([
      ['no sub', {}],
      ['an empty sub', { sub: '' }],
      ['a numeric sub', { sub: 42 }],
      ['an over-long sub', { sub: 'u'.repeat(257) }],
    ])('(%s) answers 401 and calls no upstream', async (_name, claims) => {
      const token = await signToken(claims);
      expectUnauthenticated(t, await post(`Bearer ${token}`));
    });
  });

  describe('POST /session › with a token signed by another secret', () => {
    it('answers 401 and calls no upstream', async () => {
      const token = await signToken({ sub: 'alice' }, 'another-secret-that-is-long-enough-987654321');
      expectUnauthenticated(t, await post(`Bearer ${token}`));
    });
  });

  describe('POST /session › with an unsigned alg:none token', () => {
    it('answers 401 and calls no upstream', async () => {
      const token = `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ sub: 'alice', exp: now() + 300 })}.`;
      expectUnauthenticated(t, await post(`Bearer ${token}`));
    });
  });

  describe('POST /session › with a token whose signature was altered', () => {
    it('answers 401 and calls no upstream', async () => {
      const [header, , signature] = (await signToken({ sub: 'alice' })).split('.');
      const forged = `${header}.${base64url({ sub: 'admin', exp: now() + 300 })}.${signature}`;
      expectUnauthenticated(t, await post(`Bearer ${forged}`));
    });
  });
});

describe('authentication with AUTH_ISSUER and AUTH_AUDIENCE beside the shared secret', () => {
  const t = useTestApp({ env: { AUTH_ISSUER: issuer, AUTH_AUDIENCE: audience } });

  it('POST /session › with the configured issuer and audience › creates the session', async () => {
    const token = await signToken({ sub: 'alice', iss: issuer, aud: audience });
    expect((await t.http.post('/session').set('Authorization', `Bearer ${token}`)).status).toBe(201);
  });

  it.each([
    ['a wrong issuer', { iss: 'https://evil.example', aud: audience }],
    ['no issuer', { aud: audience }],
    ['a wrong audience', { iss: issuer, aud: 'another-service' }],
    ['no audience', { iss: issuer }],
  ])('POST /session › with %s › answers 401 and calls no upstream', async (_name, claims) => {
    const token = await signToken({ sub: 'alice', ...claims });
    expectUnauthenticated(t, await t.http.post('/session').set('Authorization', `Bearer ${token}`));
  });
});

describe('authentication with AUTH_USER_CLAIM=email', () => {
  const t = useTestApp({ env: { AUTH_USER_CLAIM: 'email' } });

  it('POST /session › names the user by the email claim, whatever the sub says', async () => {
    const first = `Bearer ${await signToken({ sub: 'device-1', email: 'alice@example.com' })}`;
    const created = await t.http.post('/session').set('Authorization', first);
    expect(created.status).toBe(201);
    const sameEmail = `Bearer ${await signToken({ sub: 'device-2', email: 'alice@example.com' })}`;
    const list = await t.http.get('/sessions').set('Authorization', sameEmail);
    expect(list.body.sessions.map((s: { session_id: string }) => s.session_id)).toEqual([
      created.body.session_id,
    ]);
    const sameSub = `Bearer ${await signToken({ sub: 'device-1', email: 'bob@example.com' })}`;
    expect((await t.http.get('/sessions').set('Authorization', sameSub)).body).toEqual({ sessions: [] });
  });

  it('POST /session › with a token that has a sub but no email › answers 401 and calls no upstream', async () => {
    const token = await signToken({ sub: 'alice' });
    expectUnauthenticated(t, await t.http.post('/session').set('Authorization', `Bearer ${token}`));
  });
});

describe('authentication with a JWKS (AUTH_JWKS_URL)', () => {
  let jwks: JwksServer;
  let rsa: SigningKey;
  let ec: SigningKey;
  let t: TestApp | undefined;

  const buildJwksApp = (authOptions: AuthenticatorOptions = {}) =>
    buildTestApp({
      env: {
        AUTH_JWT_SECRET: '',
        AUTH_JWKS_URL: jwks.url,
        AUTH_ISSUER: issuer,
        AUTH_AUDIENCE: audience,
        MAX_SESSIONS_PER_USER: '5',
      },
      deps: { authOptions },
    });

  const expectKeySetLoaded = async (app: TestApp) => {
    const token = await signWith(rsa, { sub: 'alice' });
    expect((await app.http.get('/sessions').set('Authorization', `Bearer ${token}`)).status).toBe(200);
    expect(jwks.hits()).toBe(1);
  };

  /** POST /session with a good token while the endpoint misbehaves: a 503 and no upstream call. */
  const expectJwksOutage = async (behaviour: JwksBehaviour, authOptions: AuthenticatorOptions = {}) => {
    jwks.behaviour = behaviour;
    t = await buildJwksApp(authOptions);
    const res = await t.http
      .post('/session')
      .set('Authorization', `Bearer ${await signWith(rsa, { sub: 'alice' })}`);
    expectProblem(res, 503, 'upstream-unavailable');
    expect(t.sim.ledger().calls).toHaveLength(0);
    return res;
  };

  beforeAll(async () => {
    rsa = await signingKey('RS256', 'rsa-1');
    ec = await signingKey('ES256', 'ec-1');
  });
  beforeEach(async () => {
    jwks = await startJwksServer([rsa.jwk, ec.jwk]);
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
    await jwks.close();
  });

  it.each(['RS256', 'ES256'] as const)(
    'POST /session › with a valid %s token › creates the session',
    async (alg) => {
      t = await buildJwksApp();
      const token = await signWith(alg === 'RS256' ? rsa : ec, { sub: `user-${alg}` });
      const res = await t.http.post('/session').set('Authorization', `Bearer ${token}`);
      expect(res.status).toBe(201);
      expect(t.sim.liveSessions()).toHaveLength(1);
    },
  );

  it('fetches the key set over HTTP once and reuses it across many requests', async () => {
    t = await buildJwksApp();
    const app = t;
    expect(jwks.hits()).toBe(0);
    for (let i = 0; i < 3; i++) {
      const res = await app.http
        .get('/sessions')
        .set('Authorization', `Bearer ${await signWith(rsa, { sub: `u${i}` })}`);
      expect(res.status).toBe(200);
    }
    const parallel = await Promise.all(
      Array.from({ length: 8 }, async (_, i) =>
        app.http
          .get('/sessions')
          .set('Authorization', `Bearer ${await signWith(i % 2 ? rsa : ec, { sub: `p${i}` })}`),
      ),
    );
    expect(parallel.map((res) => res.status)).toEqual(Array(8).fill(200));
    expect(jwks.hits()).toBe(1);
    const metrics = (await app.http.get('/metrics')).text;
    expect(metrics).toContain('avaturn_broker_jwks_fetches_total{outcome="ok"} 1');
  });

  it('does not refetch the key set for each unknown kid: at most once per cooldown', async () => {
    t = await buildJwksApp({ jwksCooldownMs: 30_000 });
    const app = t;
    await expectKeySetLoaded(app);
    const stranger = await signingKey('RS256', 'unused');
    const results = await Promise.all(
      Array.from({ length: 10 }, async (_, i) =>
        app.http
          .post('/session')
          .set('Authorization', `Bearer ${await signWith(stranger, { sub: 'mallory' }, `kid-${i}`)}`),
      ),
    );
    for (const res of results) expectUnauthenticated(app, res);
    expect(jwks.hits()).toBeLessThanOrEqual(2);
  });

  it('picks up a rotated-in key after the cooldown, with one refetch for a burst of unknown kids', async () => {
    t = await buildJwksApp({ jwksCooldownMs: 200 });
    const app = t;
    await expectKeySetLoaded(app);
    const rotated = await signingKey('RS256', 'rsa-2');
    jwks.keys.push(rotated.jwk);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const results = await Promise.all(
      Array.from({ length: 10 }, async (_, i) =>
        app.http.get('/sessions').set('Authorization', `Bearer ${await signWith(rotated, { sub: `r${i}` })}`),
      ),
    );
    expect(results.map((res) => res.status)).toEqual(Array(10).fill(200));
    expect(jwks.hits()).toBe(2);
  });

  it('POST /session › with an HS256 token whose HMAC key is the RSA public key › answers 401 and calls no upstream', async () => {
    t = await buildJwksApp();
    const pem = await exportSPKI(rsa.publicKey);
    const forgeries = await Promise.all(
      [pem, JSON.stringify(rsa.jwk)].map((secret) =>
        new SignJWT({ sub: 'alice', iss: issuer, aud: audience })
          .setProtectedHeader({ alg: 'HS256', kid: rsa.kid })
          .setIssuedAt()
          .setExpirationTime('5m')
          .sign(new TextEncoder().encode(secret)),
      ),
    );
    for (const token of forgeries)
      expectUnauthenticated(t, await t.http.post('/session').set('Authorization', `Bearer ${token}`));
  });

  it('POST /session › with an unsigned alg:none token › answers 401 and calls no upstream', async () => {
    t = await buildJwksApp();
    const token = `${base64url({ alg: 'none', kid: rsa.kid })}.${base64url({ sub: 'alice', iss: issuer, aud: audience, exp: now() + 300 })}.`;
    expectUnauthenticated(t, await t.http.post('/session').set('Authorization', `Bearer ${token}`));
  });

  it.each([
    ['a wrong issuer', { iss: 'https://evil.example' }],
    ['a wrong audience', { aud: 'another-service' }],
    ['an expiry beyond the tolerance', { exp: now() - 60 }],
  ])(
    'POST /session › with an RS256 token with %s › answers 401 and calls no upstream',
    async (_name, claims) => {
      t = await buildJwksApp();
      const token = await signWith(rsa, { sub: 'alice', ...claims });
      expectUnauthenticated(t, await t.http.post('/session').set('Authorization', `Bearer ${token}`));
    },
  );

  describe('when the JWKS endpoint accepts the connection but never answers', () => {
    it('POST /session › answers 503 upstream-unavailable within the JWKS timeout and calls no upstream', async () => {
      jwks.behaviour = 'hang';
      t = await buildJwksApp({ jwksTimeoutMs: 300 });
      const token = await signWith(rsa, { sub: 'alice' });
      const started = Date.now();
      const res = await t.http.post('/session').set('Authorization', `Bearer ${token}`);
      expect(Date.now() - started).toBeLessThan(3000);
      expectProblem(res, 503, 'upstream-unavailable');
      expect(res.headers['retry-after']).toMatch(/^\d+$/);
      expect(jwks.hits()).toBe(1);
      expect(t.sim.ledger().calls).toHaveLength(0);
    });
  });

  describe('when the JWKS endpoint answers 500', () => {
    it('POST /session › answers 503 upstream-unavailable like any other JWKS outage, and calls no upstream', async () => {
      const res = await expectJwksOutage('fail');
      expect(res.text).not.toContain('identity provider is down');
      expect((await t!.http.get('/metrics')).text).toContain(
        'avaturn_broker_jwks_fetches_total{outcome="status"} 1',
      );
    });
  });

  describe('when the key a token names is published malformed', () => {
    it.each([
      ['an RSA key without its modulus', () => ({ ...rsa.jwk, kid: 'rsa-broken', n: undefined }), () => rsa],
      ['an EC key with a garbage x', () => ({ ...ec.jwk, kid: 'ec-broken', x: 'not-a-point' }), () => ec],
      ['an RSA key with a 16-bit modulus', () => ({ ...rsa.jwk, kid: 'rsa-tiny', n: 'AQAB' }), () => rsa],
      [
        'an RSA key whose modulus is a number',
        (): JWK => ({ ...rsa.jwk, kid: 'rsa-number', n: 5 as unknown as string }),
        () => rsa,
      ],
      ['a private key', () => ({ ...rsa.privateJwk, kid: 'rsa-private' }), () => rsa],
    ])(
      'POST /session › (%s) › answers 401, not 503, and calls no upstream',
      async (_name, broken, signer) => {
        const key = broken();
        jwks.keys.push(key);
        t = await buildJwksApp();
        const token = await signWith(signer(), { sub: 'alice' }, key.kid);
        expectUnauthenticated(t, await t.http.post('/session').set('Authorization', `Bearer ${token}`));
        expect(jwks.hits()).toBe(1);
      },
    );
  });

  describe('after the JWKS endpoint failed', () => {
    it.each([
      ['answers 500', 'fail', 20],
      ['answers something that is not JSON', 'not-json', 20],
      ['does not answer within the timeout', 'hang', 4],
    ] as const)(
      'when it %s › answers 503 with Retry-After for a cooldown without fetching again, then fetches again',
      async (_name, behaviour, requests) => {
        jwks.behaviour = behaviour;
        t = await buildJwksApp({ jwksTimeoutMs: 300, jwksFailureCooldownMs: 1500 });
        const token = `Bearer ${await signWith(rsa, { sub: 'alice' })}`;
        for (let i = 0; i < requests; i++) {
          const res = await t.http.get('/sessions').set('Authorization', token);
          expectProblem(res, 503, 'upstream-unavailable');
          expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
          expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(2);
        }
        expect(jwks.hits()).toBe(1);

        jwks.behaviour = 'serve';
        await new Promise((resolve) => setTimeout(resolve, 1600));
        expect((await t.http.get('/sessions').set('Authorization', token)).status).toBe(200);
        expect(jwks.hits()).toBe(2);
      },
    );
  });

  describe('when the key set is larger than 64 KiB', () => {
    it('(declared by Content-Length) › answers 503 upstream-unavailable and calls no upstream', async () => {
      await expectJwksOutage('oversized');
    });

    it('(a body that never ends) › answers 503 having read little of it, and calls no upstream', async () => {
      await expectJwksOutage('endless', { jwksTimeoutMs: 30_000 });
      // What the kernel buffers on both ends of a loopback connection, not what the broker kept.
      expect(jwks.sentBytes()).toBeLessThan(16 * 1024 * 1024);
    });
  });
});
