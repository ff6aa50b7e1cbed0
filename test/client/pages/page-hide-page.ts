import { createBrokerClient, type BrokerClient } from '../../../packages/client/src';

export interface SentRequest {
  method: string;
  url: string;
  keepalive: boolean;
  headers: Record<string, string>;
  body: string | undefined;
}

export interface PageHideHarness {
  /**
   * A client whose getToken answers asynchronously, as identity-provider SDKs do, with the next of
   * `tokens` on each call (the last one from then on).
   */
  addClient(options: { baseUrl: string; tokens: string[]; endOnPageHide?: boolean }): number;
  create(client: number, idempotencyKey?: string): Promise<{ sessionId: string; replayed: boolean }>;
  end(client: number, sessionId: string): Promise<boolean>;
  /** Every request the clients sent, in order. */
  sent(): SentRequest[];
  /** What the browser does when the tab goes to the background, then away, minus the going. */
  hideAndLeave(): Promise<void>;
}

declare global {
  interface Window {
    harness: PageHideHarness;
  }
}

const clients: BrokerClient[] = [];
const sent: SentRequest[] = [];

const recordingFetch: typeof fetch = (input, init) => {
  sent.push({
    method: init?.method ?? 'GET',
    url: String(input),
    keepalive: init?.keepalive === true,
    headers: (init?.headers ?? {}) as Record<string, string>,
    body: typeof init?.body === 'string' ? init.body : undefined,
  });
  return fetch(input, init);
};

window.harness = {
  addClient({ baseUrl, tokens, endOnPageHide }) {
    let calls = 0;
    const getToken = () =>
      new Promise<string>((resolve) =>
        setTimeout(() => resolve(tokens[Math.min(calls++, tokens.length - 1)]!), 0),
      );
    return clients.push(createBrokerClient({ baseUrl, getToken, endOnPageHide, fetch: recordingFetch })) - 1;
  },
  async create(client, idempotencyKey) {
    const { sessionId, replayed } = await clients[client]!.createSession({ idempotencyKey });
    return { sessionId, replayed };
  },
  end: (client, sessionId) => clients[client]!.endSession(sessionId),
  sent: () => sent,
  async hideAndLeave() {
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
    await new Promise((resolve) => setTimeout(resolve, 0));
    window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: false }));
  },
};
