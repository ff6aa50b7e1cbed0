import type { EngineProfile, EngineType, Profile } from '../config/types';
import { isAppError } from '../errors';
import type { Logger } from '../logger';
import type { ConversationEngine, CredentialMinter } from './types';

type EngineProfileOf<E extends EngineType> = Extract<EngineProfile, { type: E }>;

/**
 * Whether an engine's credential may be minted before anyone asks for it, and how long it lives.
 * Every engine must answer (a new one does not compile until someone decides): a credential that
 * names its user or its session cannot wait in a pool.
 */
const preMintable: { [E in EngineType]: { ttlSeconds(engine: EngineProfileOf<E>): number } | false } = {
  'openai-realtime': { ttlSeconds: (engine) => engine.clientSecretTtlSeconds },
  cartesia: { ttlSeconds: (engine) => engine.tokenTtlSeconds },
  external: false,
};

function preMintableTtlSeconds(engine: EngineProfile): number | undefined {
  const rule = preMintable[engine.type] as { ttlSeconds(engine: EngineProfile): number } | false;
  return rule === false ? undefined : rule.ttlSeconds(engine);
}

/** A profile whose credentials would be usable for less than this is not pooled: it would mostly mint to discard. */
const minShelfLifeMs = 60_000;
/** Pooled credentials belong to nobody until a create takes one. */
const poolUserId = '(pre-mint pool)';

/** A pooled profile, as the pool reports on it. */
export interface PremintLabels {
  profile: string;
  engine: EngineType;
}

/** Told what the pool does, per pooled profile (the metrics listen). */
export interface PremintObserver {
  /** Credentials ready to be handed out now. */
  ready(labels: PremintLabels, count: number): void;
  /** A create took a pre-minted credential. */
  hit(labels: PremintLabels): void;
  /** A create found the pool empty and minted inline. */
  miss(labels: PremintLabels): void;
  /** Credentials dropped unused, within the safety margin of their expiry. */
  discarded(labels: PremintLabels, count: number): void;
  /** A background mint failed (the profile then backs off). */
  refillFailed(labels: PremintLabels): void;
}

export interface PremintPoolOptions {
  /** The real minters, by engine. */
  minters: Partial<Record<EngineType, CredentialMinter>>;
  profiles: Record<string, Profile>;
  /** Credentials kept ready per pooled profile. */
  size: number;
  /** SESSION_CREATE_DEADLINE_MS, part of the safety margin. */
  createDeadlineMs: number;
  clock: () => number;
  observe: PremintObserver;
  logger: Logger;
  /** Background mints in flight at once, over all profiles (default 4). */
  concurrency?: number;
  /** After a failed background mint, the profile waits initialMs, doubling up to maxMs, with jitter. */
  backoff?: { initialMs: number; maxMs: number };
  random?: () => number;
}

export interface PremintPool {
  /** The real minters, wrapped: a pooled profile gets a ready credential, or one minted inline. */
  readonly minters: Partial<Record<EngineType, CredentialMinter>>;
  /** True for an engine object this pool handed out pre-minted, false for one minted inline. */
  wasPreMinted(engine: ConversationEngine): boolean;
  /** Credentials ready for a profile now (0 for a profile that is not pooled). */
  ready(profileName: string): number;
  /** Resolves once no background mint is in flight; a profile backing off counts as idle. */
  whenIdle(): Promise<void>;
  /** Stops refilling, aborts background mints in flight and forgets every held credential. */
  close(): Promise<void>;
}

interface Held {
  engine: ConversationEngine;
  /** The last moment it may be handed out: its expiry minus the safety margin. */
  usableUntil: number;
}

interface Slot {
  profile: Profile;
  minter: CredentialMinter;
  labels: PremintLabels;
  shelfLifeMs: number;
  /** Soonest to expire first. */
  ready: Held[];
  minting: number;
  failures: number;
  /** No background mint before this time (after a failure). */
  retryAt: number;
}

/**
 * Keeps `size` fresh credentials per pre-mintable profile, so that a create waits for one upstream
 * round trip instead of two. Credentials live in this process only, are handed out once each, and
 * only while they have at least the create deadline plus the profile's user_absent_timeout left:
 * the create may take that long, and Avaturn may start the engine only when the user joins.
 */
export function createPremintPool(options: PremintPoolOptions): PremintPool {
  const { clock, observe, logger, size } = options;
  const concurrency = options.concurrency ?? 4;
  const backoff = options.backoff ?? { initialMs: 1_000, maxMs: 60_000 };
  const random = options.random ?? Math.random;
  const lifetime = new AbortController();
  const handedOut = new WeakSet<ConversationEngine>();
  const slots = new Map<string, Slot>();
  let inFlight = 0;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let idleWaiters: (() => void)[] = [];

  for (const profile of Object.values(options.profiles)) {
    const minter = options.minters[profile.engine.type];
    const ttlSeconds = preMintableTtlSeconds(profile.engine);
    if (minter === undefined || ttlSeconds === undefined) continue;
    const marginMs = options.createDeadlineMs + profile.userAbsentTimeoutSeconds * 1000;
    const labels = { profile: profile.name, engine: profile.engine.type };
    if (ttlSeconds * 1000 - marginMs < minShelfLifeMs) {
      logger.warn(
        { ...labels, ttlSeconds, marginSeconds: marginMs / 1000 },
        'not pre-minting for this profile: its credentials would be usable for less than a minute',
      );
      continue;
    }
    slots.set(profile.name, {
      profile,
      minter,
      labels,
      shelfLifeMs: ttlSeconds * 1000 - marginMs,
      ready: [],
      minting: 0,
      failures: 0,
      retryAt: 0,
    });
    observe.ready(labels, 0);
  }

  const showReady = (slot: Slot) => observe.ready(slot.labels, slot.ready.length);

  function discardStale(slot: Slot, now: number): void {
    let dropped = 0;
    while (slot.ready.length > 0 && slot.ready[0]!.usableUntil <= now) {
      slot.ready.shift();
      dropped++;
    }
    if (dropped === 0) return;
    observe.discarded(slot.labels, dropped);
    showReady(slot);
  }

  function mintAhead(slot: Slot): void {
    slot.minting++;
    inFlight++;
    const startedAt = clock();
    slot.minter
      .mint(slot.profile, { userId: poolUserId, signal: lifetime.signal })
      .then(
        (engine) => {
          if (closed) return;
          slot.failures = 0;
          // Upstream anchors expiry at its own creation, which is after we asked.
          const held = { engine, usableUntil: startedAt + slot.shelfLifeMs };
          const at = slot.ready.findIndex((other) => other.usableUntil > held.usableUntil);
          slot.ready.splice(at === -1 ? slot.ready.length : at, 0, held);
          showReady(slot);
        },
        (err: unknown) => {
          if (closed) return;
          slot.failures++;
          const ceiling = Math.min(backoff.maxMs, backoff.initialMs * 2 ** (slot.failures - 1));
          const delayMs = Math.round(ceiling * (0.5 + random() / 2));
          slot.retryAt = clock() + delayMs;
          observe.refillFailed(slot.labels);
          logger.warn(
            { ...slot.labels, code: isAppError(err) ? err.code : 'internal', retryInMs: delayMs },
            'pre-minting failed; backing off',
          );
        },
      )
      .finally(() => {
        slot.minting--;
        inFlight--;
        refill();
      });
  }

  /** Starts background mints, round-robin over profiles, up to the concurrency bound. */
  function refill(): void {
    const now = clock();
    let started = !closed;
    while (started && inFlight < concurrency) {
      started = false;
      for (const slot of slots.values()) {
        if (inFlight >= concurrency) break;
        if (slot.ready.length + slot.minting >= size || slot.retryAt > now) continue;
        mintAhead(slot);
        started = true;
      }
    }
    schedule(now);
    if (inFlight > 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** One timer for the next thing due: a credential reaching its margin, or a backoff ending. */
  function schedule(now: number): void {
    clearTimeout(timer);
    timer = undefined;
    if (closed) return;
    let due = Infinity;
    for (const slot of slots.values()) {
      if (slot.ready.length > 0) due = Math.min(due, slot.ready[0]!.usableUntil);
      if (slot.retryAt > now) due = Math.min(due, slot.retryAt);
    }
    if (due === Infinity) return;
    timer = setTimeout(() => {
      timer = undefined;
      const at = clock();
      for (const slot of slots.values()) discardStale(slot, at);
      refill();
    }, due - now);
    timer.unref();
  }

  function pooled(minter: CredentialMinter): CredentialMinter {
    return {
      async mint(profile, context) {
        const slot = closed ? undefined : slots.get(profile.name);
        if (slot === undefined) return minter.mint(profile, context);
        context.signal?.throwIfAborted();
        discardStale(slot, clock());
        const held = slot.ready.shift();
        if (held !== undefined) showReady(slot);
        refill();
        if (held === undefined) {
          observe.miss(slot.labels);
          return minter.mint(profile, context);
        }
        observe.hit(slot.labels);
        handedOut.add(held.engine);
        return held.engine;
      },
    };
  }

  const minters: Partial<Record<EngineType, CredentialMinter>> = {};
  for (const [engine, minter] of Object.entries(options.minters) as [EngineType, CredentialMinter][]) {
    minters[engine] = pooled(minter);
  }
  refill();

  const whenIdle = () =>
    inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => idleWaiters.push(resolve));

  return {
    minters,
    wasPreMinted: (engine) => handedOut.has(engine),
    ready(profileName) {
      const slot = slots.get(profileName);
      if (slot === undefined) return 0;
      discardStale(slot, clock());
      return slot.ready.length;
    },
    whenIdle,
    async close() {
      if (!closed) {
        closed = true;
        clearTimeout(timer);
        timer = undefined;
        lifetime.abort(new Error('the pre-mint pool is closed'));
        for (const slot of slots.values()) {
          slot.ready.length = 0;
          showReady(slot);
        }
      }
      await whenIdle();
    },
  };
}
