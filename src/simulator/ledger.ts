import type { SimCall, SimCredential, SimLedger, SimSession } from './types';

interface LedgerSession extends SimSession {
  endsAt: number;
}

export type CredentialCheck =
  { ok: true; credential: SimCredential } | { ok: false; reason: 'unknown' | 'expired' };

/**
 * What upstream would remember: minted credentials, sessions, and every call. Sessions reach
 * max_duration lazily, whenever anyone looks, so a fake clock can jump ahead.
 */
export function createLedger(clock: () => number) {
  let credentials: SimCredential[] = [];
  let sessions: LedgerSession[] = [];
  let calls: SimCall[] = [];

  function expireSessions(): void {
    const now = clock();
    for (const session of sessions) {
      if (session.state === 'live' && now >= session.endsAt) {
        session.state = 'ended';
        session.endedBy = 'max-duration';
        session.endedAt = session.endsAt;
      }
    }
  }

  function publicSession({ endsAt: _endsAt, ...session }: LedgerSession): SimSession {
    return structuredClone(session);
  }

  return {
    recordCall(call: SimCall): SimCall {
      calls.push(call);
      return call;
    },

    mint(kind: SimCredential['kind'], value: string, ttlSeconds: number, request: unknown): SimCredential {
      const createdAt = clock();
      const credential = {
        kind,
        value,
        createdAt,
        expiresAt: createdAt + ttlSeconds * 1000,
        request,
        usedBy: [],
      };
      credentials.push(credential);
      return credential;
    },

    checkCredential(kind: SimCredential['kind'], value: string): CredentialCheck {
      const credential = credentials.find((c) => c.kind === kind && c.value === value);
      if (!credential) return { ok: false, reason: 'unknown' };
      if (clock() >= credential.expiresAt) return { ok: false, reason: 'expired' };
      return { ok: true, credential };
    },

    startSession(sessionId: string, token: string, maxDurationSeconds: number, request: unknown): void {
      const createdAt = clock();
      sessions.push({
        sessionId,
        token,
        state: 'live',
        createdAt,
        endsAt: createdAt + maxDurationSeconds * 1000,
        request,
      });
    },

    /** False when the id is unknown or the session has already ended. */
    endSession(sessionId: string): boolean {
      expireSessions();
      const session = sessions.find((s) => s.sessionId === sessionId && s.state === 'live');
      if (!session) return false;
      session.state = 'ended';
      session.endedBy = 'delete';
      session.endedAt = clock();
      return true;
    },

    snapshot(): SimLedger {
      expireSessions();
      return structuredClone({ credentials, sessions: sessions.map(publicSession), calls });
    },

    liveSessions(): SimSession[] {
      expireSessions();
      return sessions.filter((s) => s.state === 'live').map(publicSession);
    },

    reset(): void {
      credentials = [];
      sessions = [];
      calls = [];
    },
  };
}

export type Ledger = ReturnType<typeof createLedger>;
