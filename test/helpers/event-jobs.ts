import { sessionCreated } from '../../src/sessions/lifecycle-events';
import type { NewJob } from '../../src/store/ports';

/**
 * The outbox job of a `session.created` event, as the broker queues it, for the `n`-th of many
 * made-up sessions (`tag` keeps two series apart): the way to fill an outbox faster than HTTP can.
 */
export function createdEventJob(tag: string, n: number, at: number, dueAt = at): NewJob {
  const record = {
    sessionId: `sess_${tag}${String(n).padStart(8, '0')}`,
    userId: `user-${n % 500}`,
    profile: 'default',
    engine: 'openai-realtime' as const,
    createdAt: at,
    expiresAt: at + 900_000,
  };
  const event = sessionCreated(record, at);
  return {
    id: event.id,
    topic: 'event',
    partition: `events:${record.sessionId}`,
    payload: event,
    dueAt,
    dropAt: at + 24 * 60 * 60_000,
  };
}
