import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedEvent {
  id: string;
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

/** A webhook endpoint that verifies every delivery with the Standard Webhooks library. */
export interface WebhookReceiver {
  url: string;
  secret: string;
  /** Verified deliveries, in arrival order (a redelivery appears twice). */
  received: ReceivedEvent[];
  /** Deliveries whose signature did not verify. */
  rejected: number;
  /** Stops listening: deliveries fail to connect until `up()`. */
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export const webhookSecret = `whsec_${Buffer.from('a-test-signing-secret-of-32-bytes!').toString('base64')}`;

async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const verifier = new Webhook(webhookSecret);
  const receiver: WebhookReceiver = {
    url: '',
    secret: webhookSecret,
    received: [],
    rejected: 0,
    down: () => stop(),
    up: () => listen(port),
    close: () => stop(),
  };
  const server: Server = createServer((req, res) => {
    void bodyOf(req).then((body) => {
      try {
        const payload = verifier.verify(body, req.headers as Record<string, string>) as Omit<
          ReceivedEvent,
          'id'
        >;
        receiver.received.push({ id: String(req.headers['webhook-id']), ...payload });
        res.writeHead(204).end();
      } catch {
        receiver.rejected += 1;
        res.writeHead(400).end();
      }
    });
  });
  const listen = (at: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(at, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      if (server.listening) server.close(() => resolve());
      else resolve();
    });
  await listen(0);
  const port = (server.address() as AddressInfo).port;
  receiver.url = `http://127.0.0.1:${port}/hooks`;
  return receiver;
}
