import { Webhook } from 'standardwebhooks';
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

/** One webhook as its receiver gets it: `id` is the `webhook-id`, the rest is the JSON body. */
export interface WebhookMessage {
  /** Stable across redeliveries, so that receivers can drop duplicates. */
  id: string;
  type: string;
  /** ISO 8601: when what the message reports happened. */
  timestamp: string;
  data: Record<string, unknown>;
}

export type WebhookSender = ReturnType<typeof createWebhookSender>;

/**
 * Delivers one message as a Standard Webhooks request: `webhook-id` (the message's stable id),
 * `webhook-timestamp` (this attempt's time, so a late retry is not taken for a replay) and
 * `webhook-signature` (HMAC-SHA256 over id, timestamp and the exact body).
 */
export function createWebhookSender(options: WebhookSenderOptions) {
  const signer = new Webhook(options.secret);

  return {
    /** 'gone' when the receiver answered 410: it wants no more events, so this one is not retried. */
    async send(message: WebhookMessage, signal?: AbortSignal): Promise<'delivered' | 'gone'> {
      const body = JSON.stringify({ type: message.type, timestamp: message.timestamp, data: message.data });
      const sentAt = new Date(options.clock());
      const res = await options.http.send({
        upstream: 'webhook',
        method: 'POST',
        url: options.url,
        headers: {
          'content-type': 'application/json',
          'webhook-id': message.id,
          'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
          'webhook-signature': signer.sign(message.id, sentAt, body),
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
