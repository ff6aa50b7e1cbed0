import { createVerifiedTokens } from '../../src/http/verified-tokens';
import { signToken } from '../fixtures/tokens';
import { buildTestApp, expectProblem } from '../helpers/build-test-app';

describe('the verified-token cache', () => {
  let now = 1_800_000_000_000;
  const clock = () => now;

  it('answers for a token until it would be refused, and never past its maximum age', () => {
    const tokens = createVerifiedTokens({ clock, maxAgeMs: 60_000 });
    tokens.remember('a.b.c', 'alice', now + 30_000);
    tokens.remember('d.e.f', 'bob', now + 600_000);
    expect(tokens.userOf('a.b.c')).toBe('alice');
    now += 29_999;
    expect(tokens.userOf('a.b.c')).toBe('alice');
    now += 1;
    expect(tokens.userOf('a.b.c')).toBeUndefined();
    expect(tokens.userOf('d.e.f')).toBe('bob');
    now += 30_000;
    expect(tokens.userOf('d.e.f')).toBeUndefined();
  });

  it('keeps nothing already refused, and forgets the least recently verified when full', () => {
    const tokens = createVerifiedTokens({ clock, maxEntries: 2 });
    tokens.remember('expired', 'x', now);
    expect(tokens.userOf('expired')).toBeUndefined();
    tokens.remember('one', 'u1', now + 10_000);
    tokens.remember('two', 'u2', now + 10_000);
    tokens.remember('one', 'u1', now + 10_000);
    tokens.remember('three', 'u3', now + 10_000);
    expect([tokens.userOf('one'), tokens.userOf('two'), tokens.userOf('three')]).toEqual([
      'u1',
      undefined,
      'u3',
    ]);
  });
});

describe('authentication with a token seen before', () => {
  it('accepts it again, and refuses it once it has expired, as for a token never seen', async () => {
    let ahead = 0;
    const t = await buildTestApp({ deps: { authOptions: { clock: () => Date.now() + ahead } } });
    try {
      const token = `Bearer ${await signToken({ sub: 'alice' }, undefined, '1m')}`;
      expect((await t.http.get('/sessions').set('Authorization', token)).status).toBe(200);
      expect((await t.http.get('/sessions').set('Authorization', token)).status).toBe(200);
      ahead = 60_000 + 30_000 + 1_000; // past exp and the 30 s clock tolerance
      expectProblem(await t.http.get('/sessions').set('Authorization', token), 401, 'unauthenticated');
    } finally {
      await t.close();
    }
  });
});
