import type { Logger } from '../logger';
import { settledSeconds, type BudgetCrossing } from '../store/budgets';
import type { EndReason } from '../store/end-reasons';
import type { Job, JobQueue, NewJob, SessionRecord } from '../store/ports';
import type { WebhookMessage } from '../upstreams/webhook-sender';
import type { JobHandler } from './queue-worker';

export const EVENT_TYPES = [
  'session.created',
  'session.ended',
  'budget.warning',
  'budget.exhausted',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Something that happened to a session, as logs and webhooks tell it. Times are epoch ms. */
export interface SessionEvent {
  /** Stable: a redelivery carries the same id, so receivers can drop duplicates. */
  id: string;
  type: 'session.created' | 'session.ended';
  /** Why it ended (session.ended only). */
  reason?: EndReason;
  at: number;
  session: SessionRecord;
  /** session.created of an `external` profile: the `jti` of the credential its agent receives. */
  agentCredentialJti?: string;
}

/** A budget passed 80 % (warning) or reached 100 % (exhausted) of a window, once per window. */
export interface BudgetEvent {
  id: string;
  type: 'budget.warning' | 'budget.exhausted';
  at: number;
  budget: BudgetCrossing;
}

export type LifecycleEvent = SessionEvent | BudgetEvent;

export function budgetEvent(crossing: BudgetCrossing, at: number): BudgetEvent {
  const { scope, id, window, label, level } = crossing;
  return {
    id: `msg_budget_${level}_${scope}_${window}_${label}_${Buffer.from(id).toString('base64url')}`,
    type: level === 'warning' ? 'budget.warning' : 'budget.exhausted',
    at,
    budget: crossing,
  };
}

/** How long an undelivered event is retried before it is dropped. */
export const eventRetentionMs = 24 * 60 * 60_000;

export function sessionCreated(
  session: SessionRecord,
  at: number,
  agentCredentialJti?: string,
): SessionEvent {
  const event: SessionEvent = {
    id: `msg_${session.sessionId}_created`,
    type: 'session.created',
    at,
    session,
  };
  return agentCredentialJti === undefined ? event : { ...event, agentCredentialJti };
}

export function sessionEnded(session: SessionRecord, reason: EndReason, at: number): SessionEvent {
  return { id: `msg_${session.sessionId}_ended`, type: 'session.ended', reason, at, session };
}

/** The event's fields as a log line and a webhook carry them; never a token or a key. */
function eventData(event: LifecycleEvent) {
  if (!('session' in event)) return budgetData(event.budget);
  const { session } = event;
  const ended = event.type === 'session.ended';
  return {
    session_id: session.sessionId,
    user_id: session.userId,
    ...(session.tenantId === undefined ? {} : { tenant: session.tenantId }),
    profile: session.profile,
    engine: session.engine,
    ...(event.reason === undefined ? {} : { reason: event.reason }),
    ...(event.agentCredentialJti === undefined ? {} : { agent_credential_jti: event.agentCredentialJti }),
    created_at: new Date(session.createdAt).toISOString(),
    expires_at: new Date(session.expiresAt).toISOString(),
    // The settled figure: what the session's end charged to the budgets and the usage ledger.
    ...(ended ? { duration_seconds: settledSeconds(session, event.at) } : {}),
  };
}

function budgetData(budget: BudgetCrossing) {
  return {
    scope: budget.scope,
    ...(budget.scope === 'user' ? { user_id: budget.id } : {}),
    ...(budget.scope === 'tenant' ? { tenant: budget.id } : {}),
    window: budget.window,
    period: budget.label,
    minutes: budget.minutes,
    used_minutes: Math.round((budget.usedSeconds / 60) * 100) / 100,
    resets_at: new Date(budget.endsAt).toISOString(),
  };
}

/** The event as a webhook carries it. */
export function webhookMessage(event: LifecycleEvent): WebhookMessage {
  return {
    id: event.id,
    type: event.type,
    timestamp: new Date(event.at).toISOString(),
    data: eventData(event),
  };
}

export interface LifecycleEventsOptions {
  logger: Logger;
  store: JobQueue;
  /**
   * Delivers a webhook, resolving 'gone' when the receiver wants no more of it (410); without one,
   * events are log lines only.
   */
  deliver?: (message: WebhookMessage, signal: AbortSignal) => Promise<'delivered' | 'gone'>;
  /** Told about each delivery outcome (metrics). */
  onDelivery?: (outcome: 'delivered' | 'failed' | 'dropped' | 'gone') => void;
  /** True while deliveries cannot succeed (the receiver's circuit is open): the worker waits. */
  deliveryPaused?: () => boolean;
}

export type LifecycleEvents = ReturnType<typeof createLifecycleEvents>;

/**
 * Every event is a JSON log line with a stable `event` field. With webhooks on, it is also a job in
 * the store's outbox, queued in the same atomic step as the change it reports (the store call takes
 * `outbox(event)`), and delivered by the queue worker; its partition is the session, so one
 * session's events arrive in order.
 */
export function createLifecycleEvents(options: LifecycleEventsOptions) {
  const { deliver, store } = options;
  const report = options.onDelivery ?? (() => undefined);

  /** The queue worker's handler for `event` jobs; undefined without webhooks. */
  const jobHandler: JobHandler | undefined = deliver && {
    paused: options.deliveryPaused,
    async run(job: Job, signal: AbortSignal): Promise<void> {
      const outcome = await deliver(webhookMessage(job.payload as LifecycleEvent), signal).catch(
        (err: unknown) => {
          report('failed');
          // Once per event: later attempts are counted. Not while the circuit is open, whose opening
          // was logged already: a receiver down for a day would otherwise cost a line per event.
          const failure = deliveryFailure(job, err);
          if (job.attempts === 0 && failure.kind !== 'circuit-open')
            options.logger.warn(failure, 'webhook delivery failed; retrying');
          throw err;
        },
      );
      report(outcome);
      if (outcome === 'gone')
        options.logger.warn({ eventId: job.id }, 'webhook receiver answered 410 Gone; event dropped');
      await store.ackJob(job.id);
    },
    async drop(job: Job): Promise<void> {
      report('dropped');
      options.logger.warn({ eventId: job.id }, 'webhook not delivered in time; event dropped');
      await store.ackJob(job.id);
    },
  };

  return {
    jobHandler,
    outbox(event: LifecycleEvent): NewJob[] {
      if (deliver === undefined) return [];
      return [
        {
          id: event.id,
          topic: 'event',
          partition: partitionOf(event),
          payload: event,
          dueAt: event.at,
          dropAt: event.at + eventRetentionMs,
        },
      ];
    },
    log(event: LifecycleEvent): void {
      options.logger.info({ event: event.type, ...eventData(event) }, event.type);
    },
  };
}

/** One session's events arrive in order, and so do one budget window's (warning before exhausted). */
function partitionOf(event: LifecycleEvent): string {
  if ('session' in event) return `events:${event.session.sessionId}`;
  const { scope, window, label, id } = event.budget;
  return `events:budget:${scope}:${window}:${label}:${id}`;
}

/** What a failed delivery's log line tells: the event and how it failed, never the URL or a body. */
function deliveryFailure(job: Job, err: unknown) {
  const cause = (err as { cause?: { kind?: unknown; status?: unknown } } | undefined)?.cause;
  return { eventId: job.id, kind: cause?.kind ?? 'error', status: cause?.status };
}
