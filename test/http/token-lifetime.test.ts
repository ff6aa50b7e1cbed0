import { SignJWT } from 'jose';
import { testJwtSecret } from '../fixtures/tokens';
import { expectProblem, useTestApp } from '../helpers/build-test-app';

const hour = 3_600;
const now = () => Math.floor(Date.now() / 1000);

/** An HS256 token the test broker would accept but for its lifetime. */
function token(claims: { iat?: number; exp?: number }) {
  return new SignJWT({ sub: 'alice', ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(testJwtSecret));
}

describe('POST /session › with a token whose lifetime is over AUTH_MAX_TOKEN_LIFETIME_SECONDS', () => {
  const t = useTestApp({ env: { AUTH_MAX_TOKEN_LIFETIME_SECONDS: String(2 * hour) } });

  const post = async (bearer: string) =>
    t.http.post('/session').set('Authorization', `Bearer ${bearer}`).send({});

  it.each([
    ['no exp at all', { iat: now() }, 'the token has no exp claim'],
    ['exp − iat over the limit', { iat: now(), exp: now() + 2 * hour + 60 }, 'past iat'],
    ['exp over the limit from now, without iat', { exp: now() + 2 * hour + 60 }, 'past now'],
    [
      'an old iat whose exp is still ahead but too far from it',
      { iat: now() - 3 * hour, exp: now() + 60 },
      'past iat',
    ],
  ])('(%s) answers 401, calls no upstream, and logs why', async (_story, claims, reason) => {
    const bearer = await token(claims);
    expectProblem(await post(bearer), 401, 'unauthenticated');
    expect(t.sim.ledger().calls).toHaveLength(0);
    expect(t.logs.text).toContain(reason);
    expect(t.logs.text).not.toContain(bearer);
  });

  it.each([
    ['exp − iat within the limit', { iat: now(), exp: now() + 2 * hour - 60 }],
    ['exp within the limit from now, without iat', { exp: now() + hour }],
  ])('(%s) creates the session', async (_story, claims) => {
    expect((await post(await token(claims))).status).toBe(201);
  });
});

describe('POST /session › with the default AUTH_MAX_TOKEN_LIFETIME_SECONDS (a day)', () => {
  const t = useTestApp();

  it('refuses a token valid for a year, and takes one valid for a day', async () => {
    const year = await token({ iat: now(), exp: now() + 365 * 24 * hour });
    expectProblem(
      await t.http.post('/session').set('Authorization', `Bearer ${year}`).send({}),
      401,
      'unauthenticated',
    );
    const day = await token({ iat: now(), exp: now() + 24 * hour });
    expect((await t.http.post('/session').set('Authorization', `Bearer ${day}`).send({})).status).toBe(201);
  });
});
