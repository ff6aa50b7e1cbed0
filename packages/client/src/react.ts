/**
 * `useAvaturnSession`: one avatar session per mounted component, for React 18 and later
 * (`avaturn-broker/react`; React is an optional peer, needed only by this entry point).
 */
import { useEffect, useState, useSyncExternalStore } from 'react';
import type { BrokerClient, BrokerSession } from './broker-client';
import { createSessionHolder, type SessionStatus } from './session-holder';

export type { SessionStatus } from './session-holder';

export interface UseAvaturnSessionOptions {
  /** Create it once (module level, or a context), not on every render. */
  client: BrokerClient;
  profile?: string;
  /** `false` holds no session (before sign-in, or until the user asks); back to `true` starts one. Default `true`. */
  enabled?: boolean;
}

export interface AvaturnSession {
  status: SessionStatus;
  session: BrokerSession | undefined;
  /** The session token for `new AvaturnHead(element, { sessionToken: token })`, while `live`. */
  token: string | undefined;
  /** With status `error`: a `BrokerError` (readable `message`, `code`, `retryAfterSeconds`) for anything from the broker, or what `getToken` threw. */
  error: Error | undefined;
  /** Ends the session now, e.g. at logout: await it before the user's token is dropped. */
  end(): Promise<void>;
  /** Starts a new session after an error or `end()`. */
  start(): void;
}

/**
 * Starts a session when the component mounts (or `enabled` turns true) and ends it when it
 * unmounts. Under StrictMode the double effect keeps the one create already in flight (one
 * Idempotency-Key per mount), so one session is made; a real unmount ends it, even while its
 * create is still on its way.
 */
export function useAvaturnSession({
  client,
  profile,
  enabled = true,
}: UseAvaturnSessionOptions): AvaturnSession {
  const [kept, setHolder] = useState(() => createSessionHolder(client, profile));
  let holder = kept;
  if (holder.client !== client || holder.profile !== profile) {
    // A different client or profile is a different session: the effect below ends the old one.
    holder = createSessionHolder(client, profile);
    setHolder(holder);
  }
  const snapshot = useSyncExternalStore(holder.subscribe, holder.getSnapshot, holder.getSnapshot);

  useEffect(() => {
    if (!enabled) return;
    holder.attach();
    return () => holder.detach();
  }, [holder, enabled]);

  return {
    ...snapshot,
    token: snapshot.status === 'live' ? snapshot.session?.token : undefined,
    end: holder.end,
    start: holder.start,
  };
}
