import { createSecretKey, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
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
