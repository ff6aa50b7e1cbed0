import { Webhook } from 'standardwebhooks';
import { eventData, type LifecycleEvent } from '../sessions/lifecycle-events';
import type { UpstreamHttp } from './http-client';
import { UpstreamError } from './upstream-error';

export interface WebhookSenderOptions {
  url: string;
  /** `whsec_…`, as Standard Webhooks libraries take it. */
  secret: string;
  http: UpstreamHttp;
  timeoutMs: number;
  clock: () => number;
}

export type WebhookSender = ReturnType<typeof createWebhookSender>;

/**
 * Delivers one lifecycle event as a Standard Webhooks request: `webhook-id` (the event's stable id),
 * `webhook-timestamp` (this attempt's time, so a late retry is not taken for a replay) and
 * `webhook-signature` (HMAC-SHA256 over id, timestamp and the exact body).
 */
export function createWebhookSender(options: WebhookSenderOptions) {
  const signer = new Webhook(options.secret);

  return {
    /** 'gone' when the receiver answered 410: it wants no more events, so this one is not retried. */
    async send(event: LifecycleEvent, signal?: AbortSignal): Promise<'delivered' | 'gone'> {
      const body = JSON.stringify({
        type: event.type,
        timestamp: new Date(event.at).toISOString(),
        data: eventData(event),
      });
      const sentAt = new Date(options.clock());
      const res = await options.http.send({
        upstream: 'webhook',
        method: 'POST',
        url: options.url,
        headers: {
          'content-type': 'application/json',
          'webhook-id': event.id,
          'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
          'webhook-signature': signer.sign(event.id, sentAt, body),
        },
        body,
        timeoutMs: options.timeoutMs,
        signal,
        discardBody: true,
      });
      if (res.status >= 200 && res.status < 300) return 'delivered';
      if (res.status === 410) return 'gone';
      throw new UpstreamError('webhook', 'status', { status: res.status, retryAfterMs: res.retryAfterMs });
    },
  };
}
