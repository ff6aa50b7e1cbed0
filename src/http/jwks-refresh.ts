/**
 * When the identity provider's key set is fetched again, so that a key it withdraws stops verifying
 * within a minute: a background fetch every `refreshMs` (whatever tokens arrive, so no holder of a
 * withdrawn key decides whether it happens), and a set older than `maxAgeMs` (the background
 * fetches failed) is fetched again before it is used. A refresh that drops a key also drops the
 * verified-token cache's entries for it.
 */
export const jwksSchedule = { refreshMs: 45_000, maxAgeMs: 60_000 } as const;

/** Calls `reload` every `intervalMs` without holding the process open; returns the stop function. */
export function refreshEvery(reload: () => Promise<void>, intervalMs: number): () => void {
  // A failure is counted by the key set's fetch, and the next request or refresh tries again.
  const timer = setInterval(() => void reload().catch(() => undefined), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
