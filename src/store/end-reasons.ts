/**
 * Why a session ended. Declared once: metrics labels, lifecycle events and the termination queue
 * all take their values from here.
 */
export const END_REASONS = [
  /** Its user asked (DELETE /session/:id). */
  'user',
  /** An operator ended it (DELETE /admin/users/:user/sessions). */
  'admin',
  /** A newer session of the same user took its slot (policy replace-oldest). */
  'replaced',
  /** Something failed after Avaturn created it, so nobody was handed it. */
  'compensated',
  /** Its client hung up before the answer, without an Idempotency-Key to collect it later. */
  'abandoned',
  /** It reached its max_duration; Avaturn ended it by itself. */
  'expired',
] as const;

export type EndReason = (typeof END_REASONS)[number];
