/**
 * Counts a session's seconds down to its `expiresAt`, when Avaturn ends it by itself. A budget can
 * clamp a session well below the profile's length, so the user deserves a warning before the
 * avatar stops mid-sentence.
 */
export interface ExpiryWatchOptions {
  /** Every whole second, and once at the start: the seconds left, rounded up, down to 0. */
  onTick?(secondsLeft: number): void;
  /** Once, `warnSeconds` before `expiresAt`; at once when the session starts with less left. */
  onExpiringSoon?(secondsLeft: number): void;
  /** Default 60. */
  warnSeconds?: number;
}

export const expiringSoonSeconds = 60;

/** Starts watching; the function it returns stops it. After the tick that says 0 it stops by itself. */
export function watchExpiry(expiresAt: Date, options: ExpiryWatchOptions): () => void {
  const warnSeconds = options.warnSeconds ?? expiringSoonSeconds;
  const end = expiresAt.getTime();
  let warned = false;
  let timer: ReturnType<typeof setTimeout> | undefined;

  function tick(): void {
    const msLeft = Math.max(0, end - Date.now());
    const secondsLeft = Math.ceil(msLeft / 1000);
    options.onTick?.(secondsLeft);
    if (!warned && msLeft <= warnSeconds * 1000) {
      warned = true;
      options.onExpiringSoon?.(secondsLeft);
    }
    // The next whole second of the countdown, so the number changes when the second does.
    if (msLeft > 0) timer = setTimeout(tick, msLeft % 1000 || 1000);
  }

  tick();
  return () => clearTimeout(timer);
}
