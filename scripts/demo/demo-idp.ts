import express, { type RequestHandler } from 'express';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { listen } from './listen';

export interface DemoIdpOptions {
  port: number;
  host: string;
  /** The origins allowed to ask for tokens from a browser: the example page's, and the developer's own app's. */
  origins: readonly string[];
  audience: string;
  /** The `iss` of every token; by default the URL it listens on. Behind a published port, the outside URL. */
  issuer?: string;
  tokenTtlSeconds?: number;
}

export interface DemoIdp {
  url: string;
  /** The `iss` of every token; the broker's AUTH_ISSUER. */
  issuer: string;
  audience: string;
  jwksUrl: string;
  issueToken(user: string): Promise<string>;
  close(): Promise<void>;
}

const userName = /^[\p{L}\p{N} ._@-]{1,64}$/u;

function corsFor(origins: readonly string[]): RequestHandler {
  const allowed = new Set(origins);
  return (req, res, next) => {
    res.vary('Origin');
    const origin = req.headers.origin;
    if (origin === undefined || !allowed.has(origin)) return next();
    res.setHeader('Access-Control-Allow-Origin', origin);
    if (req.method !== 'OPTIONS') return next();
    res.setHeader('Access-Control-Allow-Methods', 'GET, POST');
    res.setHeader('Access-Control-Allow-Headers', 'Content-Type');
    res.status(204).end();
  };
}

/**
 * A stand-in for the app's own identity provider: anyone may sign in under any name. It signs
 * ES256 JWTs with a key made at start and publishes the public half as a JWKS, as real ones do.
 */
export async function startDemoIdp(options: DemoIdpOptions): Promise<DemoIdp> {
  const ttl = options.tokenTtlSeconds ?? 600;
  const kid = `demo-${Date.now().toString(36)}`;
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }] };
  let issuer = '';

  const issueToken = (user: string) =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
      .setSubject(user)
      .setIssuer(issuer)
      .setAudience(options.audience)
      .setIssuedAt()
      .setExpirationTime(`${ttl}s`)
      .sign(privateKey);

  const app = express();
  app.disable('x-powered-by');
  app.use(corsFor(options.origins));
  app.get('/.well-known/jwks.json', (_req, res) => {
    res.set('Cache-Control', 'public, max-age=300').json(jwks);
  });
  app.post('/token', express.json({ limit: '1kb' }), async (req, res) => {
    const user: unknown = req.body?.user;
    if (typeof user !== 'string' || !userName.test(user.trim())) {
      res
        .status(400)
        .json({ error: 'invalid_request', error_description: 'user: 1-64 letters, digits, spaces or ._@-' });
      return;
    }
    res
      .set('Cache-Control', 'no-store')
      .json({ access_token: await issueToken(user.trim()), token_type: 'Bearer', expires_in: ttl });
  });

  const listening = await listen(app, options.port, options.host);
  issuer = options.issuer ?? listening.url;
  return {
    url: listening.url,
    issuer,
    audience: options.audience,
    jwksUrl: `${listening.url}/.well-known/jwks.json`,
    issueToken,
    close: listening.close,
  };
}
