import type { AppDeps } from '../../src/http/app';
import { expectProblem, useTestApp } from '../helpers/build-test-app';

/** Only the thrown error carries this: the answer must not, the log must. */
const cause = 'ZZ_CAUSE_3b9e cannot read properties of undefined';

const failing = async (): Promise<never> => {
  throw new TypeError(cause);
};

describe.each<[string, AppDeps]>([
  ['an OpenAI minter', { minters: { 'openai-realtime': { mint: failing } } }],
  ['the Avaturn gateway', { avaturn: { createSession: failing, terminateSession: failing } }],
])('POST /session when %s throws a plain TypeError (a bug)', (_name, deps) => {
  const t = useTestApp({ deps });

  it('answers 500 internal with a generic detail, and logs the cause with the request id', async () => {
    const res = await t.http
      .post('/session')
      .set('Authorization', await t.bearer('alice'))
      .send({});
    expectProblem(res, 500, 'internal');
    expect(res.body.detail).toBe('Something went wrong on our side.');
    expect(res.text).not.toContain(cause);
    expect(res.text).not.toMatch(/TypeError|\bat \S+ \(/);
    const logged = t.logs.lines().filter((line) => line.code === 'internal');
    expect(logged).toEqual([
      expect.objectContaining({
        level: 'error',
        req: expect.objectContaining({ id: res.headers['x-request-id'] }),
        err: expect.objectContaining({ type: 'TypeError', message: cause }),
      }),
    ]);
  });
});
