import fc from 'fast-check';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { SignJWT } from 'jose';
import request from 'supertest';
import { idempotencyKeyPattern } from '../../src/http/idempotent-replay';
import { testJwtSecret } from '../fixtures/tokens';
import { buildTestApp, type TestApp } from '../helpers/build-test-app';
import { rawPost, type RawResponse } from '../helpers/raw-post';
import { listenOn } from '../helpers/serve';

/** Limits out of the way, so that every rejection comes from the input itself. */
const unlimited = {
  RATE_LIMIT_PER_MINUTE: '1000000',
  RATE_LIMIT_IP_PER_MINUTE: '1000000',
  MAX_SESSIONS_PER_USER: '1000000',
};
const profiles = ['default', 'support'];
const now = () => Math.floor(Date.now() / 1000);

interface FuzzApp {
  t: TestApp;
  port: number;
  http: ReturnType<typeof request>;
  forget(): void;
  close(): Promise<void>;
}

/**
 * One broker per property, listening once, so thousands of requests stay cheap. `forget` empties
 * the simulator's ledger, which is otherwise copied whole on every look.
 */
async function startFuzzApp(): Promise<FuzzApp> {
  const t = await buildTestApp({ env: unlimited });
  const broker = await listenOn(t.broker.app);
  return {
    t,
    port: broker.port,
    http: request(broker.server),
    forget: () => t.sim.reset(),
    async close() {
      await broker.close();
      await t.close();
    },
  };
}

/**
 * What every answer must satisfy: never 5xx, problem+json on error, an upstream call only for a
 * valid request. `valid` undefined means the generator cannot tell, and only the link between a
 * 2xx and upstream calls is checked.
 */
async function expectSoundAnswer(
  app: FuzzApp,
  send: () => Promise<Pick<RawResponse, 'status' | 'headers' | 'body'>>,
  valid: boolean | undefined,
  success: number,
): Promise<void> {
  const before = app.t.sim.ledger().calls.length;
  const res = await send();
  const calls = app.t.sim.ledger().calls.length - before;
  expect(res.status).toBeLessThan(500);
  expect(res.headers['x-request-id']).toMatch(/\S/);
  if (res.status >= 400) {
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({
      status: res.status,
      code: expect.any(String),
      type: `/problems/${(res.body as { code?: unknown }).code}`,
    });
  }
  if (valid === true) expect(res.status).toBe(success);
  if (valid === false) expect(res.status).toBeGreaterThanOrEqual(400);
  if (res.status === success) expect(calls).toBeGreaterThan(0);
  else expect(calls).toBe(0);
}

/** The contract's body rule: empty, or an object whose only key is a configured profile name. */
function isValidBody(text: string): boolean {
  if (text === '') return true;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return false;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  if (keys.some((key) => key !== 'profile')) return false;
  const profile = (value as { profile?: unknown }).profile;
  return keys.length === 0 || (typeof profile === 'string' && profiles.includes(profile));
}

const anyText = fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'grapheme', maxLength: 100 }));

/** What Node lets a client put in a header value: tab, printable ASCII and Latin-1. */
const headerValue = fc.string({
  unit: fc
    .oneof(
      { weight: 20, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
      { weight: 1, arbitrary: fc.constant(0x09) },
      { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xff }) },
    )
    .map((code) => String.fromCharCode(code)),
  maxLength: 300,
});

/** Request bodies: JSON of every shape, near-misses of valid ones, and text that is not JSON. */
const bodyTexts = fc.oneof(
  fc.jsonValue().map((value) => JSON.stringify(value)),
  anyText,
  fc
    .dictionary(
      fc.oneof(fc.constant('profile'), fc.string({ maxLength: 12 })),
      fc.jsonValue({ maxDepth: 2 }),
      { maxKeys: 3 },
    )
    .map((value) => JSON.stringify(value)),
  fc
    .record(
      {
        profile: fc.oneof(fc.constantFrom(...profiles, 'nope', 'DEFAULT', ''), fc.string({ maxLength: 80 })),
      },
      { requiredKeys: [] },
    )
    .map((value) => JSON.stringify(value)),
  fc
    .tuple(
      fc.constantFrom('{"profile":"default"}', '{}', '{"profile":"support"}'),
      fc.nat(),
      fc.string({ maxLength: 3 }),
    )
    .map(
      ([text, at, junk]) => text.slice(0, at % (text.length + 1)) + junk + text.slice(at % (text.length + 1)),
    ),
);

const base64urlJson = fc
  .jsonValue({ maxDepth: 2 })
  .map((value) => Buffer.from(JSON.stringify(value)).toString('base64url'));

// Each property sends a thousand requests or more: the time limit bounds a hang, it is no speed
// target, and a busy CI machine must not turn a slow run into a failure.
jest.setTimeout(120_000);

describe('fuzzing the broker at the wire (fast-check)', () => {
  let app: FuzzApp;
  beforeEach(async () => {
    app = await startFuzzApp();
  });
  afterEach(async () => {
    await app.close();
  });

  it('POST /session › with any body › never answers 5xx and calls upstream only for a valid body', async () => {
    const auth = await app.t.bearer('body-fuzzer');
    await fc.assert(
      fc.asyncProperty(bodyTexts, async (text) => {
        app.forget();
        const valid = isValidBody(text.replace(/^\uFEFF/, ''));
        await expectSoundAnswer(
          app,
          () =>
            app.http
              .post('/session')
              .set('Authorization', auth)
              .set('Content-Type', 'application/json')
              .send(text),
          valid,
          201,
        );
      }),
      { numRuns: 1500 },
    );
  });

  it('POST /session › with a gzip, deflate or br body, intact or damaged › never answers 5xx and calls upstream only for a valid body', async () => {
    const auth = await app.t.bearer('encoding-fuzzer');
    const compress = { gzip: gzipSync, deflate: deflateSync, br: brotliCompressSync };
    type Damage = (bytes: Buffer) => Buffer;
    const damages = fc.oneof(
      fc.constant<Damage | undefined>(undefined),
      fc.nat().map<Damage>((at) => (bytes) => bytes.subarray(0, at % bytes.length)),
      fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })).map<Damage>(([at, mask]) => (bytes) => {
        const copy = Buffer.from(bytes);
        copy[at % copy.length]! ^= mask;
        return copy;
      }),
      fc.uint8Array({ minLength: 1, maxLength: 64 }).map<Damage>((junk) => () => Buffer.from(junk)),
    );
    await fc.assert(
      fc.asyncProperty(
        bodyTexts,
        fc.constantFrom(...(Object.keys(compress) as Array<keyof typeof compress>)),
        damages,
        async (text, encoding, damage) => {
          app.forget();
          const compressed = compress[encoding](Buffer.from(text));
          // A damaged body may still decode to something: only the 5xx and upstream rules apply.
          const valid = damage === undefined ? isValidBody(text.replace(/^\uFEFF/, '')) : undefined;
          await expectSoundAnswer(
            app,
            () =>
              rawPost(
                app.port,
                { authorization: auth, 'content-type': 'application/json', 'content-encoding': encoding },
                [damage === undefined ? compressed : damage(compressed)],
              ),
            valid,
            201,
          );
        },
      ),
      { numRuns: 800 },
    );
  });

  it('POST /session › with any Content-Type, Idempotency-Key and Authorization › never answers 5xx and calls upstream only when all are valid', async () => {
    const knownContentTypes = fc.constantFrom(
      ['application/json', true],
      ['application/json; charset=utf-8', true],
      ['Application/JSON;charset=UTF-8', true],
      ['application/problem+json', true],
      ['text/plain', false],
      ['application/x-www-form-urlencoded', false],
      ['application/json; charset=latin1', false],
      ['multipart/form-data; boundary=x', false],
    ) as fc.Arbitrary<[string, boolean]>;
    const contentTypes = fc.oneof(
      knownContentTypes.map(([value, valid]) => ({ value, valid: valid as boolean | undefined })),
      headerValue.map((value) => ({ value, valid: undefined as boolean | undefined })),
    );
    const keys = fc.option(fc.oneof(headerValue, fc.string({ minLength: 1, maxLength: 255 })), {
      nil: undefined,
    });
    type AuthKind = 'valid' | 'garbage' | 'bearer-garbage' | 'bearer-segments';
    const authorizations = fc.oneof(
      fc.constant({ kind: 'valid' as AuthKind, value: '' }),
      headerValue.map((value) => ({ kind: 'garbage' as AuthKind, value })),
      headerValue.map((value) => ({ kind: 'bearer-garbage' as AuthKind, value: `Bearer ${value}` })),
      fc.tuple(base64urlJson, base64urlJson, fc.base64String()).map(([header, payload, sig]) => ({
        kind: 'bearer-segments' as AuthKind,
        value: `Bearer ${header}.${payload}.${sig.replace(/=+$/, '')}`,
      })),
    );
    let user = 0;
    await fc.assert(
      fc.asyncProperty(contentTypes, keys, authorizations, async (contentType, key, authorization) => {
        app.forget();
        // A fresh user each time: Idempotency-Keys are per user, so no run replays another.
        const authHeader =
          authorization.kind === 'valid'
            ? await app.t.bearer(`header-fuzzer-${user++}`)
            : authorization.value;
        const trimmedKey = key?.replace(/^[ \t]+|[ \t]+$/g, '');
        const keyValid = trimmedKey === undefined || idempotencyKeyPattern.test(trimmedKey);
        const valid = authorization.kind !== 'valid' || !keyValid ? false : contentType.valid;
        await expectSoundAnswer(
          app,
          () => {
            const req = app.http
              .post('/session')
              .set('Authorization', authHeader)
              .set('Content-Type', contentType.value);
            if (key !== undefined) req.set('Idempotency-Key', key);
            return req.send('{"profile":"support"}');
          },
          valid,
          201,
        );
      }),
      { numRuns: 1000 },
    );
  });

  it('DELETE /session/:id › with any id, including someone else’s live session › answers 404 and calls no upstream', async () => {
    const owned = await app.http.post('/session').set('Authorization', await app.t.bearer('owner'));
    expect(owned.status).toBe(201);
    const auth = await app.t.bearer('id-fuzzer');
    const percentJunk = fc
      .array(
        fc.constantFrom(
          '%',
          '%2',
          '%ZZ',
          '%E0%A4',
          '%C0%AF',
          '%00',
          '%2F',
          '%2e%2e',
          'A',
          'z',
          '0',
          '-',
          '_',
          '.',
          '~',
        ),
        { minLength: 1, maxLength: 20 },
      )
      .map((parts) => parts.join(''));
    const ids = fc.oneof(
      anyText.map((text) => encodeURIComponent(text)),
      fc.stringMatching(/^[A-Za-z0-9_-]{1,140}$/),
      percentJunk,
      fc.constant(owned.body.session_id as string),
    );
    await fc.assert(
      fc.asyncProperty(ids, async (id) => {
        await expectSoundAnswer(
          app,
          () => app.http.delete(`/session/${id}`).set('Authorization', auth),
          false,
          204,
        );
        expect(app.t.sim.liveSessions()).toHaveLength(1);
      }),
      { numRuns: 1000 },
    );
  });

  it('POST /session › with any token claims signed by the right key, or unsigned junk › creates a session only for a valid, unexpired user', async () => {
    const claims = fc.record(
      {
        sub: fc.oneof(
          fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
          fc.constantFrom('', null, 0, true),
          fc.integer(),
          fc.string({ minLength: 257, maxLength: 300 }),
          fc.constant({ id: 'alice' }),
        ),
        exp: fc.oneof(
          fc.integer({ min: 120, max: 86_400 }).map((ahead) => now() + ahead),
          fc.integer({ min: 120, max: 10_000_000 }).map((ago) => now() - ago),
          fc.string({ maxLength: 12 }),
          fc.constant(null),
        ),
        x_extra: fc.jsonValue({ maxDepth: 2 }),
      },
      { requiredKeys: [] },
    );
    const tokens = fc.oneof(
      { weight: 3, arbitrary: claims.map((payload) => ({ payload, junk: undefined as string | undefined })) },
      {
        weight: 1,
        arbitrary: fc
          .tuple(
            base64urlJson,
            base64urlJson,
            fc.string({ unit: fc.constantFrom(...'abcXYZ019-_'), maxLength: 50 }),
          )
          .map(([header, payload, sig]) => ({ payload: undefined, junk: `${header}.${payload}.${sig}` })),
      },
    );
    const secret = new TextEncoder().encode(testJwtSecret);
    await fc.assert(
      fc.asyncProperty(tokens, async ({ payload, junk }) => {
        app.forget();
        const token =
          junk ??
          (await new SignJWT(payload as Record<string, unknown>)
            .setProtectedHeader({ alg: 'HS256' })
            .sign(secret));
        const sub = payload?.sub;
        const exp = payload?.exp;
        const valid =
          payload !== undefined &&
          typeof sub === 'string' &&
          sub.length >= 1 &&
          sub.length <= 256 &&
          typeof exp === 'number' &&
          exp > now();
        await expectSoundAnswer(
          app,
          () => app.http.post('/session').set('Authorization', `Bearer ${token}`),
          valid,
          201,
        );
      }),
      { numRuns: 800 },
    );
  });
});
