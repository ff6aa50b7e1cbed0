/**
 * `useAvaturnSession`: one avatar session per mounted component, for React 18 and later
 * (`avaturn-broker/react`; React is an optional peer, needed only by this entry point).
 */
import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import type { BrokerClient, BrokerSession } from './broker-client';
import { watchExpiry } from './expiry-watch';
import { createSessionHolder, type SessionHolder, type SessionStatus } from './session-holder';

export type { SessionStatus } from './session-holder';

export interface UseAvaturnSessionOptions {
  /** Create it once (module level, or a context), not on every render. */
  client: BrokerClient;
  profile?: string;
  /** `false` holds no session (before sign-in, or until the user asks); back to `true` starts one. Default `true`. */
  enabled?: boolean;
  /**
   * Called once per session, 60 s before its `expiresAt` (at once when it starts with less left):
   * Avaturn ends it then, and a budget may have made it shorter than the profile's maximum.
   */
  onExpiringSoon?: (secondsLeft: number, session: BrokerSession) => void;
}

export interface AvaturnSession {
  status: SessionStatus;
  session: BrokerSession | undefined;
  /** The session token for `new AvaturnHead(element, { sessionToken: token })`, while `live`. */
  token: string | undefined;
  /** With status `error`: a `BrokerError` (readable `message`, `code`, `retryAfterSeconds`) for anything from the broker, or what `getToken` threw. */
  error: Error | undefined;
  /** While `live`: whole seconds until `expiresAt`, updated every second; at 0 the status becomes `ended`. */
  secondsLeft: number | undefined;
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
  onExpiringSoon,
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

  const live = snapshot.status === 'live' ? snapshot.session : undefined;
  const secondsLeft = useSecondsLeft(holder, live, onExpiringSoon);

  return {
    ...snapshot,
    token: live?.token,
    secondsLeft,
    end: holder.end,
    start: holder.start,
  };
}

/** Counts the live session down, warns once per session (StrictMode's second effect included), and lapses it at 0. */
function useSecondsLeft(
  holder: SessionHolder,
  live: BrokerSession | undefined,
  onExpiringSoon: UseAvaturnSessionOptions['onExpiringSoon'],
): number | undefined {
  const [left, setLeft] = useState<{ session: BrokerSession; seconds: number }>();
  const warnedFor = useRef<BrokerSession | undefined>(undefined);
  const latestOnExpiringSoon = useRef(onExpiringSoon);
  useEffect(() => {
    latestOnExpiringSoon.current = onExpiringSoon;
  });

  useEffect(() => {
    if (live === undefined) return;
    return watchExpiry(live.expiresAt, {
      onTick(seconds) {
        setLeft({ session: live, seconds });
        if (seconds === 0) holder.lapse(live);
      },
      onExpiringSoon(seconds) {
        if (warnedFor.current === live) return;
        warnedFor.current = live;
        latestOnExpiringSoon.current?.(seconds, live);
      },
    });
  }, [holder, live]);

  if (live === undefined) return undefined;
  if (left?.session === live) return left.seconds;
  return Math.ceil(Math.max(0, live.expiresAt.getTime() - Date.now()) / 1000);
}
