import { afterEach } from '@jest/globals';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator';

const started: Simulator[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((sim) => sim.close()));
});

/** A fresh simulator for the current test, closed after it. */
export async function useSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const sim = await startSimulator(options);
  started.push(sim);
  return sim;
}

/** A clock the test moves by hand. */
export function fakeClock(start = Date.UTC(2026, 10, 25, 10, 0, 0)) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

async function answerOf(res: Response): Promise<Answer> {
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export interface CallOptions {
  method?: string;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string as it is. */
  body?: unknown;
  signal?: AbortSignal;
}

export async function call(sim: Simulator, path: string, options: CallOptions = {}): Promise<Answer> {
  const { body } = options;
  const res = await fetch(sim.url + path, {
    method: options.method ?? 'POST',
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    signal: options.signal,
  });
  return answerOf(res);
}

export const realtimeSession = {
  type: 'realtime',
  model: 'gpt-realtime-2.1',
  instructions: 'You are a friendly guide.',
  audio: { output: { voice: 'marin' } },
};

export function mintSecret(sim: Simulator, body: unknown = { session: realtimeSession }): Promise<Answer> {
  return call(sim, '/v1/realtime/client_secrets', {
    headers: { authorization: `Bearer ${sim.keys.openai}` },
    body,
  });
}

export function mintCartesiaToken(
  sim: Simulator,
  body: unknown = { grants: { agent: true }, expires_in: 300 },
  headers: Record<string, string> = {},
): Promise<Answer> {
  return call(sim, '/access-token', {
    headers: { authorization: `Bearer ${sim.keys.cartesia}`, 'cartesia-version': '2025-04-16', ...headers },
    body,
  });
}

export function createSession(sim: Simulator, body: unknown, signal?: AbortSignal): Promise<Answer> {
  return call(sim, '/api/v1/sessions', {
    headers: { authorization: `Bearer ${sim.keys.avaturn}` },
    body,
    signal,
  });
}

export function terminateSession(sim: Simulator, sessionId: string): Promise<Answer> {
  return call(sim, `/api/v1/sessions/${encodeURIComponent(sessionId)}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${sim.keys.avaturn}` },
  });
}

/** Mints a fresh OpenAI secret and creates a session bound to it. */
export async function createOpenAiSession(sim: Simulator, extra: Record<string, unknown> = {}) {
  const secret = (await mintSecret(sim)).json as { value: string };
  const created = await createSession(sim, {
    conversation_engine: { type: 'openai-realtime', client_secret: secret.value },
    max_duration: 900,
    user_absent_timeout: 60,
    ...extra,
  });
  return { secret: secret.value, created, session: created.json as { session_id: string; token: string } };
}
