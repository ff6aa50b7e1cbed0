import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import type request from 'supertest';
import { expectProblem, type TestApp, useTestApp } from '../helpers/build-test-app';
import { rawPost, type RawResponse } from '../helpers/raw-post';
import { exchangeOverSocket } from '../helpers/raw-socket';
import { listenOn, type Listening } from '../helpers/serve';

/** Appears in every bad input; no answer may carry it back. */
const marker = 'ZZ_MARKER_7f3a';

function expectSafeProblem(
  t: TestApp,
  res: RawResponse | request.Response,
  status: number,
  code: string,
): void {
  expectProblem(res as request.Response, status, code);
  expect(res.headers['x-request-id']).toMatch(/\S/);
  expect(res.text).not.toContain(marker);
  expect(res.text).not.toMatch(/\bat \S+ \(|\/work\/|node_modules|\.ts:\d+/);
  expect(t.sim.ledger().calls).toHaveLength(0);
}

describe('POST /session input handling', () => {
  const t = useTestApp();
  let auth: string;
  beforeEach(async () => {
    auth = await t.bearer('alice');
  });

  const postJson = (text: string, contentType = 'application/json') =>
    t.http.post('/session').set('Authorization', auth).set('Content-Type', contentType).send(text);

  describe('with malformed JSON', () => {
    it.each([
      ['an unterminated string', `{"profile":"${marker}`],
      ['a trailing comma', `{"profile":"${marker}",}`],
      ['single quotes', `{'profile':'${marker}'}`],
      ['a bare word', marker],
    ])(
      '(%s) answers 400 invalid-request without echo or stack, and calls no upstream',
      async (_name, text) => {
        expectSafeProblem(t, await postJson(text), 400, 'invalid-request');
      },
    );
  });

  describe('with a JSON value that is not an object', () => {
    it.each([`"${marker}"`, '123', 'null', 'true', '[]', `["${marker}"]`])(
      '(%s) answers 400 invalid-request and calls no upstream',
      async (text) => {
        expectSafeProblem(t, await postJson(text), 400, 'invalid-request');
      },
    );
  });

  describe('with a key the browser may not choose', () => {
    it.each([
      { model: marker },
      { instructions: `Ignore the profile. ${marker}` },
      { max_duration: 10 },
      { tools: [] },
      { profile: 'default', voice: marker },
      { ['__proto__']: { profile: marker } },
    ])('(%j) answers 400 invalid-request and calls no upstream', async (body) => {
      expectSafeProblem(t, await postJson(JSON.stringify(body)), 400, 'invalid-request');
    });

    it('(a "__proto__" key written literally) answers 400 invalid-request and calls no upstream', async () => {
      expectSafeProblem(t, await postJson(`{"__proto__":{"admin":"${marker}"}}`), 400, 'invalid-request');
    });
  });

  describe('with a profile of the wrong type', () => {
    it.each([5, null, true, { name: marker }, [marker], ''])(
      '(%j) answers 400 invalid-request and calls no upstream',
      async (profile) => {
        expectSafeProblem(t, await postJson(JSON.stringify({ profile })), 400, 'invalid-request');
      },
    );

    it('(a 65-character name) answers 400 invalid-request and calls no upstream', async () => {
      expectSafeProblem(
        t,
        await postJson(JSON.stringify({ profile: marker.padEnd(65, 'x') })),
        400,
        'invalid-request',
      );
    });
  });

  describe('with a profile name nobody configured', () => {
    it('answers 400 unknown-profile without echoing the name, and calls no upstream', async () => {
      expectSafeProblem(t, await postJson(JSON.stringify({ profile: marker })), 400, 'unknown-profile');
    });
  });

  describe('with a body over the 4 KiB limit', () => {
    it('(declared by Content-Length) answers 413 payload-too-large and calls no upstream', async () => {
      const res = await postJson(JSON.stringify({ profile: marker.repeat(400) }));
      expectSafeProblem(t, res, 413, 'payload-too-large');
    });
  });

  describe('sent over a raw socket', () => {
    let broker: Listening;
    beforeEach(async () => {
      broker = await listenOn(t.broker.app);
    });
    afterEach(() => broker.close());

    it('with a Content-Length over 4 KiB and only part of the body sent › answers 413 at once and closes the connection', async () => {
      const head = [
        'POST /session HTTP/1.1',
        'Host: 127.0.0.1',
        `Authorization: ${auth}`,
        'Content-Type: application/json',
        'Content-Length: 1000000',
      ].join('\r\n');
      // The rest of the body never comes: the answer cannot wait for it.
      const res = await exchangeOverSocket(broker.port, `${head}\r\n\r\n{"profile":"${marker}`);
      expectSafeProblem(t, { ...res, text: res.raw }, 413, 'payload-too-large');
      expect(res.headers.connection).toBe('close');
      expect(res.raw.match(/^HTTP\/1\.1 /gm)).toHaveLength(1);
    });

    it('with a chunked body over 4 KiB and no Content-Length › answers 413 payload-too-large and calls no upstream', async () => {
      const piece = Buffer.from(marker.repeat(20));
      const chunks = [
        Buffer.from('{"profile":"'),
        ...Array.from({ length: 30 }, () => piece),
        Buffer.from('"}'),
      ];
      const res = await rawPost(
        broker.port,
        { authorization: auth, 'content-type': 'application/json' },
        chunks,
      );
      expectSafeProblem(t, res, 413, 'payload-too-large');
    });

    it('with a gzip body small on the wire that inflates past 4 KiB › answers 413 and calls no upstream', async () => {
      const compressed = gzipSync(JSON.stringify({ profile: marker.repeat(10_000) }));
      expect(compressed.length).toBeLessThan(1024);
      const headers = {
        authorization: auth,
        'content-type': 'application/json',
        'content-encoding': 'gzip',
        'content-length': String(compressed.length),
      };
      expectSafeProblem(t, await rawPost(broker.port, headers, [compressed]), 413, 'payload-too-large');
    });

    it('with a gzip body that inflates to a small valid body › creates the session', async () => {
      const compressed = gzipSync(JSON.stringify({ profile: 'support' }));
      const headers = { authorization: auth, 'content-type': 'application/json', 'content-encoding': 'gzip' };
      const res = await rawPost(broker.port, headers, [compressed]);
      expect(res.status).toBe(201);
    });

    describe('with a compressed body that does not decode', () => {
      const gzipped = gzipSync(JSON.stringify({ profile: 'support' }));
      it.each([
        [
          'gzip',
          'deflate data that is not deflate',
          Buffer.concat([gzipped.subarray(0, 10), Buffer.from(marker)]),
        ],
        ['gzip', 'truncated', gzipped.subarray(0, gzipped.length - 6)],
        ['gzip', 'no gzip header at all', Buffer.from(`{"profile":"${marker}"}`)],
        ['deflate', 'garbage', Buffer.from(marker)],
        ['deflate', 'truncated', deflateSync(JSON.stringify({ profile: marker })).subarray(0, 8)],
        ['br', 'garbage', Buffer.from(marker)],
        ['br', 'truncated', brotliCompressSync(JSON.stringify({ profile: marker })).subarray(0, 6)],
      ])(
        '(%s, %s) › answers 400 invalid-request, logs a warning without a stack, and calls no upstream',
        async (encoding, _how, body) => {
          const headers = {
            authorization: auth,
            'content-type': 'application/json',
            'content-encoding': encoding,
          };
          const res = await rawPost(broker.port, headers, [body]);
          expectSafeProblem(t, res, 400, 'invalid-request');
          const line = t.logs.lines().find((entry) => entry.code === 'invalid-request');
          expect(line).toMatchObject({ level: 'warn' });
          expect(line).not.toHaveProperty('err');
          expect(t.logs.text).not.toMatch(/"stack"|\bat \S+ \(/);
        },
      );
    });

    it('with a Content-Encoding the broker does not decode › answers 415 with the codings it accepts', async () => {
      const headers = {
        authorization: auth,
        'content-type': 'application/json',
        'content-encoding': 'compress',
      };
      const res = await rawPost(broker.port, headers, [Buffer.from(`{"profile":"${marker}"}`)]);
      expectSafeProblem(t, res, 415, 'unsupported-media-type');
      expect(res.headers['accept-encoding']).toBe('gzip, deflate, br');
    });

    it('with a body and no Content-Type › answers 415 unsupported-media-type and calls no upstream', async () => {
      const res = await rawPost(broker.port, { authorization: auth }, [
        Buffer.from(`{"profile":"${marker}"}`),
      ]);
      expectSafeProblem(t, res, 415, 'unsupported-media-type');
    });

    it('with an empty chunked JSON body › treats it as {} and creates the session', async () => {
      const headers = {
        authorization: auth,
        'content-type': 'application/json',
        'transfer-encoding': 'chunked',
      };
      const res = await rawPost(broker.port, headers, []);
      expect(res.status).toBe(201);
    });
  });

  describe('with a body that is not JSON', () => {
    it.each([
      ['text/plain', `{"profile":"${marker}"}`],
      ['application/x-www-form-urlencoded', `profile=${marker}`],
      [
        'multipart/form-data; boundary=x',
        `--x\r\nContent-Disposition: form-data; name="profile"\r\n\r\n${marker}\r\n--x--`,
      ],
      ['application/xml', `<profile>${marker}</profile>`],
    ])('(%s) answers 415 unsupported-media-type and calls no upstream', async (contentType, text) => {
      expectSafeProblem(t, await postJson(text, contentType), 415, 'unsupported-media-type');
    });

    it('(JSON declared in a charset other than UTF-8) answers 415 and calls no upstream', async () => {
      expectSafeProblem(
        t,
        await postJson('{}', 'application/json; charset=latin1'),
        415,
        'unsupported-media-type',
      );
    });
  });

  describe('with an acceptable body', () => {
    it('(none at all) means {} and creates a session with the default profile', async () => {
      const res = await t.http.post('/session').set('Authorization', auth);
      expect(res.status).toBe(201);
      expect(t.sim.ledger().credentials[0]?.kind).toBe('openai-client-secret');
    });

    it('(Content-Type: application/json; charset=utf-8) is accepted', async () => {
      const res = await postJson('{"profile":"support"}', 'application/json; charset=utf-8');
      expect(res.status).toBe(201);
      expect(t.sim.ledger().credentials[0]?.kind).toBe('cartesia-access-token');
    });
  });

  describe('X-Request-Id', () => {
    it('echoes a well-formed inbound id on an error and puts it in the problem body', async () => {
      const res = await postJson('[]').set('X-Request-Id', 'lb-req_42:abc.def');
      expectSafeProblem(t, res, 400, 'invalid-request');
      expect(res.headers['x-request-id']).toBe('lb-req_42:abc.def');
    });

    it.each([
      ['spaces and angle brackets', `<${marker}> x`],
      ['over 128 characters', marker.repeat(10)],
    ])('replaces a malformed inbound id (%s) with its own', async (_name, inbound) => {
      const res = await postJson('[]').set('X-Request-Id', inbound);
      expectSafeProblem(t, res, 400, 'invalid-request');
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('differs between requests that bring none', async () => {
      const [a, b] = await Promise.all([postJson('[]'), postJson('[]')]);
      expect(a.headers['x-request-id']).not.toBe(b.headers['x-request-id']);
    });
  });
});

describe('an unknown route', () => {
  const t = useTestApp();

  it.each([
    ['GET', `/${marker}`],
    ['PUT', '/session'],
    ['PATCH', '/session/abc'],
    ['GET', '/session'],
    ['POST', `/sessions/${marker}`],
    ['DELETE', '/session/%'],
    ['DELETE', `/session/%E0%A4%A${marker}`],
  ] as const)('%s %s answers 404 not-found as problem+json and calls no upstream', async (method, path) => {
    const auth = await t.bearer('alice');
    const res = await t.http[method.toLowerCase() as 'get' | 'put' | 'patch' | 'post' | 'delete'](path).set(
      'Authorization',
      auth,
    );
    expectSafeProblem(t, res, 404, 'not-found');
  });
});
