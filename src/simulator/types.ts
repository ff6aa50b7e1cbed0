export const SIM_ROUTES = [
  'openai.mint',
  'openai.model',
  'cartesia.mint',
  'avaturn.create',
  'avaturn.terminate',
] as const;
export type SimRoute = (typeof SIM_ROUTES)[number];
export type SimUpstream = 'openai' | 'cartesia' | 'avaturn';
export type SimLatency = number | { min: number; max: number };

export interface SimKeys {
  avaturn: string;
  openai: string;
  cartesia: string;
}

export interface SimCredential {
  kind: 'openai-client-secret' | 'cartesia-access-token';
  value: string;
  /** Milliseconds on the simulator's clock, like every time in the ledger. */
  createdAt: number;
  expiresAt: number;
  /** The full parsed request body that minted it. */
  request: unknown;
  /** Ids of the Avaturn sessions created with it. */
  usedBy: string[];
}

export interface SimSession {
  sessionId: string;
  token: string;
  state: 'live' | 'ended';
  /**
   * `delete`: a terminate call. `max-duration`: it ran out by itself, its clock started at create
   * (Avaturn arms it at stream start, moments later), with `endedAt` the moment it ran out.
   */
  endedBy?: 'delete' | 'max-duration';
  createdAt: number;
  endedAt?: number;
  /** The full parsed create body. */
  request: unknown;
}

export interface SimCall {
  upstream: SimUpstream;
  route: SimRoute;
  method: string;
  path: string;
  /** null while unanswered, and for ever when the call hung, was reset or its client left. */
  status: number | null;
  at: number;
  /** The parsed JSON body; the raw text when it was not JSON; null when empty or too large. */
  body: unknown;
}

export interface SimLedger {
  credentials: SimCredential[];
  sessions: SimSession[];
  calls: SimCall[];
}

export interface SimFault {
  route: SimRoute;
  /** How many of the next matching calls it applies to (default 1); 0 means until cleared. */
  times?: number;
  /** Delay before answering; the answer is still the normal one unless other fields say otherwise. */
  latencyMs?: SimLatency;
  /** Answer this status, with the vendor's error body (or `body`). */
  status?: number;
  /**
   * The machine-readable code in that error body: Cartesia's `error_code` (on versions that send
   * one; e.g. `concurrency_limited` with 429) or OpenAI's `error.code`. Avaturn's bodies have none.
   */
  errorCode?: string;
  /** Answer this body: JSON, or text/plain when a string. Without `status`, the status is 200. */
  body?: unknown;
  retryAfter?: string;
  /** Never answer; the socket stays open until the client gives up or the simulator closes. */
  hang?: boolean;
  /** Destroy the connection without answering. */
  reset?: boolean;
  /**
   * Carry out the request (mint, create, terminate) even though the answer is delayed, hung,
   * reset or replaced: upstream did the work, the client never heard.
   */
  afterEffect?: boolean;
}

export interface SimulatorOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  keys?: Partial<SimKeys>;
  /** Default latency for every route; a fault's latencyMs replaces it. */
  latencyMs?: SimLatency;
  /** Milliseconds; drives credential expiry, session max_duration and ledger times. */
  clock?: () => number;
  /** Cap on a request body (default 64 KiB). */
  maxBodyBytes?: number;
  /**
   * OpenAI models added to (or changed in) the simulator's catalogue: model → `shutdown_date`
   * (`YYYY-MM-DD` or null). A model missing from it answers 404 `model_not_found`, as does one past
   * its date.
   */
  models?: Record<string, string | null>;
}

export interface Simulator {
  /** `http://host:port`, no trailing slash. */
  readonly url: string;
  readonly keys: SimKeys;
  ledger(): SimLedger;
  liveSessions(): SimSession[];
  inject(fault: SimFault): void;
  /** Adds or changes an OpenAI model: its `shutdown_date`, or null for none. */
  setModel(model: string, shutdownDate: string | null): void;
  /** Makes an OpenAI model unknown (404 `model_not_found`). */
  removeModel(model: string): void;
  clearFaults(): void;
  /** Forgets the ledger and the faults. */
  reset(): void;
  /** Destroys every socket, hanging ones included, and resolves once the server is closed. */
  close(): Promise<void>;
}
