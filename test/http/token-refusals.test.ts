import { SignJWT } from 'jose';
import { signToken, testJwtSecret } from '../fixtures/tokens';
import { buildTestApp, expectProblem, type TestApp } from '../helpers/build-test-app';

const issuer = 'https://idp.example';
const audience = 'avaturn-broker';

const withoutExp = (claims: Record<string, unknown>) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .sign(new TextEncoder().encode(testJwtSecret));

describe('a refused bearer token › the log says why, at info, and never holds the token', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ env: { AUTH_ISSUER: issuer, AUTH_AUDIENCE: audience } });
  });
  afterAll(async () => {
    await t.close();
  });

  const good = { sub: 'alice', iss: issuer, aud: audience };

  it.each<[string, () => Promise<string>, string]>([
    [
      'an issuer with a trailing slash',
      () => signToken({ ...good, iss: `${issuer}/` }),
      `ERR_JWT_CLAIM_VALIDATION_FAILED: iss mismatch: expected "${issuer}", got "${issuer}/" (compared as exact strings)`,
    ],
    [
      'another audience',
      () => signToken({ ...good, aud: 'someone-else' }),
      `ERR_JWT_CLAIM_VALIDATION_FAILED: aud mismatch: expected "${audience}", got "someone-else" (compared as exact strings)`,
    ],
    ['no exp', () => withoutExp(good), 'ERR_JWT_CLAIM_VALIDATION_FAILED: the token has no exp claim'],
    [
      'no user claim',
      () => signToken({ iss: issuer, aud: audience }),
      'ERR_JWT_CLAIM_VALIDATION_FAILED: the token has no sub claim',
    ],
    ['an expired token', () => signToken(good, testJwtSecret, '-2m'), 'ERR_JWT_EXPIRED: exp is in the past'],
    [
      'another signing key',
      () => signToken(good, 'another-secret-that-is-long-enough-0123456789'),
      'ERR_JWS_SIGNATURE_VERIFICATION_FAILED: signature verification failed',
    ],
  ])('%s', async (_case, makeToken, reason) => {
    const token = await makeToken();
    const before = t.logs.lines().length;
    const res = await t.http.get('/sessions').set('Authorization', `Bearer ${token}`);
    expectProblem(res, 401, 'unauthenticated');
    const lines = t.logs.lines().slice(before);
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'info', msg: 'bearer token refused', reason }),
    );
    expect(t.logs.text).not.toContain(token);
    expect(t.logs.text).not.toContain(token.split('.')[2]);
  });

  it('a missing token says so too', async () => {
    const before = t.logs.lines().length;
    expectProblem(await t.http.get('/sessions'), 401, 'unauthenticated');
    expect(t.logs.lines().slice(before)).toContainEqual(
      expect.objectContaining({
        msg: 'bearer token refused',
        reason: expect.stringMatching(/^no bearer token/),
      }),
    );
  });
});
