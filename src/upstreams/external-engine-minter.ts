import { createSecretKey, randomUUID } from 'node:crypto';
import { decodeJwt, SignJWT } from 'jose';
import type { Profile } from '../config/types';
import type { ConversationEngine, CredentialMinter, MintContext } from './types';

/** The `iss` of every external-engine credential; an agent checks it along with `aud`. */
export const externalCredentialIssuer = 'avaturn-broker';
/** Long enough for Avaturn to open the agent's WebSocket, short enough to be worthless afterwards. */
export const externalCredentialTtlSeconds = 120;

export interface ExternalEngineMinterOptions {
  /** EXTERNAL_ENGINE_SIGNING_KEY, shared with the operator's agents. */
  signingKey: string;
}

/**
 * Mints, for one session, the credential Avaturn presents to the operator's own voice agent:
 * an HS256 JWT naming the user (`sub`), the profile, a unique id (`jti`) and the agent's URL as
 * its audience, so a credential for one agent is no good at another. Nothing goes upstream.
 */
export function createExternalEngineMinter(options: ExternalEngineMinterOptions): CredentialMinter {
  // Imported once: a raw secret would be imported again on every signature.
  const key = createSecretKey(Buffer.from(options.signingKey, 'utf8'));

  return {
    async mint(profile: Profile, context: MintContext): Promise<ConversationEngine> {
      const engine = profile.engine;
      if (engine.type !== 'external') throw new Error(`profile ${profile.name} is not an external profile`);
      context.signal?.throwIfAborted();
      const issuedAt = Math.floor(Date.now() / 1000);
      const credential = await new SignJWT({ profile: profile.name })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setIssuer(externalCredentialIssuer)
        .setAudience(engine.url)
        .setSubject(context.userId)
        .setJti(randomUUID())
        .setIssuedAt(issuedAt)
        .setExpirationTime(issuedAt + externalCredentialTtlSeconds)
        .sign(key);
      return {
        type: 'external',
        url: engine.url,
        audio: { user: { sample_rate: engine.sampleRate } },
        headers: { ...engine.headers, Authorization: `Bearer ${credential}` },
      };
    },
  };
}

/**
 * The `jti` of the credential an external engine carries, so that the session's events can name it
 * (the agent ties its WebSocket to a broker session by it); never the credential itself.
 */
export function externalCredentialId(engine: ConversationEngine): string | undefined {
  if (engine.type !== 'external') return undefined;
  const credential = /^Bearer (\S+)$/.exec(engine.headers.Authorization ?? '')?.[1];
  const jti = credential === undefined ? undefined : decodeJwt(credential).jti;
  return typeof jti === 'string' ? jti : undefined;
}
