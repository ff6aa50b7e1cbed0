import { afterEach, describe, expect, it } from '@jest/globals';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { jwksSchedule } from '../../src/http/jwks-refresh';
import { createVerifiedTokens } from '../../src/http/verified-tokens';
import { buildTestApp, expectProblem, type TestApp } from '../helpers/build-test-app';
import { listenOn } from '../helpers/serve';
import { eventually, sleep } from '../helpers/waiting';

const issuer = 'https://idp.example';
const audience = 'avaturn-broker';

interface Key {
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

async function es256(kid: string): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
}

async function bearer(key: Key, sub: string): Promise<string> {
  const token = await new SignJWT({ sub, iss: issuer, aud: audience })
    .setProtectedHeader({ alg: 'ES256', kid: key.kid })
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(key.privateKey);
  return `Bearer ${token}`;
}

/** The identity provider's key set on 127.0.0.1; `keys` can change between fetches. */
async function startIdentityProvider(keys: JWK[]) {
  let fetches = 0;
  const listening = await listenOn((_req, res) => {
    fetches += 1;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: idp.keys }));
  });
  const idp = {
    keys,
    url: `${listening.url}/jwks.json`,
    fetches: () => fetches,
    close: () => listening.close(),
  };
  return idp;
}

let t: TestApp | undefined;
let idp: Awaited<ReturnType<typeof startIdentityProvider>> | undefined;
afterEach(async () => {
  await t?.close();
  await idp?.close();
  t = idp = undefined;
});

describe('a key the identity provider withdraws from its JWKS', () => {
  it('stops verifying on the next scheduled refresh: a new token and one already cached are both refused, while the other key still works', async () => {
    const [withdrawn, kept] = await Promise.all([es256('withdrawn'), es256('kept')]);
    idp = await startIdentityProvider([withdrawn.jwk, kept.jwk]);
    // Hours of cooldown and cache age: only the refresh schedule can fetch the set again.
    t = await buildTestApp({
      env: { AUTH_JWT_SECRET: '', AUTH_JWKS_URL: idp.url, AUTH_ISSUER: issuer, AUTH_AUDIENCE: audience },
      deps: { authOptions: { jwksRefreshMs: 300, jwksCooldownMs: 3_600_000 } },
    });
    const cached = await bearer(withdrawn, 'alice');
    const other = await bearer(kept, 'bob');
    for (const header of [cached, cached, other])
      expect((await t.http.get('/sessions').set('Authorization', header)).status).toBe(200);

    idp.keys = [kept.jwk];
    const seen = idp.fetches();
    // No request at all meanwhile: the refresh happens by itself.
    await eventually(() => expect(idp!.fetches()).toBeGreaterThan(seen), 5_000);
    await sleep(50);

    expectProblem(await t.http.get('/sessions').set('Authorization', cached), 401, 'unauthenticated');
    const fresh = await bearer(withdrawn, 'carol');
    expectProblem(await t.http.post('/session').set('Authorization', fresh).send({}), 401, 'unauthenticated');
    expect((await t.http.get('/sessions').set('Authorization', other)).status).toBe(200);
    expect(t.sim.ledger().calls).toHaveLength(0);
  });

  it('keeps being fetched on schedule while no token arrives at all', async () => {
    const key = await es256('only');
    idp = await startIdentityProvider([key.jwk]);
    t = await buildTestApp({
      env: { AUTH_JWT_SECRET: '', AUTH_JWKS_URL: idp.url, AUTH_ISSUER: issuer, AUTH_AUDIENCE: audience },
      deps: { authOptions: { jwksRefreshMs: 100 } },
    });
    await eventually(() => expect(idp!.fetches()).toBeGreaterThanOrEqual(3), 5_000);
  });
});

describe('the revocation schedule by default', () => {
  it('refreshes the key set, bounds its age and the verified-token cache, each within 60 s', () => {
    expect(jwksSchedule.refreshMs).toBeLessThanOrEqual(60_000);
    expect(jwksSchedule.maxAgeMs).toBeLessThanOrEqual(60_000);
    // The cache's own default: an entry unchecked for 60 s is verified again whatever the key set did.
    let now = 0;
    const tokens = createVerifiedTokens({ clock: () => now });
    tokens.remember('a.b.c', 'alice', Number.MAX_SAFE_INTEGER);
    now = 60_000;
    expect(tokens.userOf('a.b.c')).toBeUndefined();
  });
});
