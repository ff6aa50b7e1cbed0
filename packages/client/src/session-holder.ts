/**
 * One avatar session for one mounted view, whatever a UI framework does with its effects: the
 * state machine behind `useAvaturnSession`, free of React so it stays small and plain.
 */
import type { BrokerClient, BrokerSession } from './broker-client';
import { BrokerError } from './broker-error';

export type SessionStatus = 'idle' | 'starting' | 'live' | 'ending' | 'ended' | 'error';

export interface SessionSnapshot {
  status: SessionStatus;
  /** Present while `live` (and while `ending`, or after a failed end, until it is gone). */
  session: BrokerSession | undefined;
  /** Set with status `error`: a `BrokerError` for anything the broker said or could not say. */
  error: Error | undefined;
}

export interface SessionHolder {
  readonly client: BrokerClient;
  readonly profile: string | undefined;
  getSnapshot(): SessionSnapshot;
  subscribe(listener: () => void): () => void;
  /** The view is mounted: keep its session, or start one. */
  attach(): void;
  /** The view is unmounted, or seems to be (StrictMode): end its session unless `attach` follows. */
  detach(): void;
  /** Starts a session when none is starting or live (after an error, or after `end`). */
  start(): void;
  /** Ends the session (logout): waits for a create still in flight, then deletes what it made. */
  end(): Promise<void>;
  /** The live session reached its `expiresAt`: Avaturn has ended it, so it is `ended` and `start` may make another. */
  lapse(session: BrokerSession): void;
}

interface Intent {
  created: Promise<BrokerSession | undefined>;
  /** Ended before its create answered: the answer is ended, never shown. */
  abandoned: boolean;
}

/** A create whose answer never arrived may still have made a session: its retry must collect it. */
function answerLost(error: Error): boolean {
  return (
    error instanceof BrokerError &&
    (error.code === 'network-error' || error.code === 'idempotency-in-progress')
  );
}

function randomKey(): string {
  // getRandomValues, unlike randomUUID, exists outside secure contexts too.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function createSessionHolder(client: BrokerClient, profile?: string): SessionHolder {
  let snapshot: SessionSnapshot = { status: 'idle', session: undefined, error: undefined };
  const listeners = new Set<() => void>();
  let intent: Intent | undefined;
  let unansweredKey: string | undefined;
  let pendingDetach: ReturnType<typeof setTimeout> | undefined;

  function set(next: Partial<SessionSnapshot>): void {
    snapshot = { ...snapshot, ...next };
    listeners.forEach((listener) => listener());
  }

  function start(): void {
    if (intent !== undefined) return;
    // One key per intent to have a session, kept across a lost answer so the retry replays it.
    const idempotencyKey = unansweredKey ?? randomKey();
    unansweredKey = idempotencyKey;
    const current: Intent = { abandoned: false, created: Promise.resolve(undefined) };
    current.created = client.createSession({ profile, idempotencyKey }).then(
      (session) => {
        unansweredKey = undefined;
        if (!current.abandoned) set({ status: 'live', session, error: undefined });
        return session;
      },
      (err: unknown) => {
        const error = err instanceof Error ? err : new Error(String(err));
        if (!answerLost(error)) unansweredKey = undefined;
        if (intent === current) intent = undefined;
        if (!current.abandoned) set({ status: 'error', session: undefined, error });
        return undefined;
      },
    );
    intent = current;
    set({ status: 'starting', session: undefined, error: undefined });
  }

  async function endCurrent(): Promise<void> {
    const current = intent;
    if (current === undefined) return;
    intent = undefined;
    current.abandoned = true;
    set({ status: 'ending' });
    const session = await current.created;
    if (session === undefined) {
      set({ status: 'ended', session: undefined });
      return;
    }
    try {
      await client.endSession(session.sessionId);
      set({ status: 'ended', session: undefined, error: undefined });
    } catch (err) {
      // Still running upstream: keep it, so the next end() tries again.
      intent ??= current;
      set({ status: 'error', session, error: err as Error });
      throw err;
    }
  }

  function cancelPendingDetach(): boolean {
    if (pendingDetach === undefined) return false;
    clearTimeout(pendingDetach);
    pendingDetach = undefined;
    return true;
  }

  return {
    client,
    profile,
    getSnapshot: () => snapshot,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    attach() {
      if (cancelPendingDetach()) return;
      start();
    },
    detach() {
      cancelPendingDetach();
      // StrictMode unmounts and remounts in one synchronous pass; a timer runs only after it.
      pendingDetach = setTimeout(() => {
        pendingDetach = undefined;
        endCurrent().catch(() => undefined);
      }, 0);
    },
    start,
    end() {
      cancelPendingDetach();
      return endCurrent();
    },
    lapse(session) {
      if (snapshot.status !== 'live' || snapshot.session !== session) return;
      intent = undefined;
      set({ status: 'ended', session: undefined, error: undefined });
    },
  };
}
