import { expect } from '@jest/globals';
import { startSimulator, type Simulator } from '../../src/simulator';
import type { TestApp } from '../helpers/build-test-app';
import { fakeClock, type FakeClock } from '../helpers/fake-clock';
import { buildWorld, type StoreKind, type World } from '../helpers/world';

export const adminToken = 'admin-token-that-is-long-enough-0123456789';
export const admin = `Bearer ${adminToken}`;

export interface BudgetWorld extends World {
  clock: FakeClock;
  sim: Simulator;
}

/**
 * A broker and the simulator on one hand-moved clock (so that seconds used are exact), on the store
 * of the given kind, with the admin routes on and the queue worker fast.
 */
export async function buildBudgetWorld(
  kind: StoreKind,
  env: Record<string, string>,
  start = Date.parse('2030-01-15T10:00:00Z'),
  shared: {
    keyPrefix?: string;
    simulator?: Simulator;
    clock?: FakeClock;
    /** null: the env-only `default` profile (SESSION_MAX_DURATION_SECONDS applies). */
    profiles?: null;
  } = {},
): Promise<BudgetWorld> {
  const clock = shared.clock ?? fakeClock(start);
  const sim = shared.simulator ?? (await startSimulator({ clock: clock.now }));
  const world = await buildWorld(
    kind,
    {
      simulator: sim,
      ...(shared.profiles === null ? { profiles: null } : {}),
      env: { ADMIN_TOKEN: adminToken, ...env },
      deps: { clock: clock.now, queue: { intervalMs: 50, backoffBaseMs: 20, backoffMaxMs: 200 } },
    },
    { keyPrefix: shared.keyPrefix },
  );
  return {
    ...world,
    clock,
    sim,
    async dispose() {
      await world.dispose();
      if (shared.simulator === undefined) await sim.close();
    },
  };
}

/** POST /session for `user` (with `claims` in the token); the answer as supertest gives it. */
export async function startSession(t: TestApp, user: string, claims: Record<string, unknown> = {}) {
  return t.http
    .post('/session')
    .set('Authorization', await t.bearer(user, claims))
    .send({});
}

/** Starts a session and expects it to be created. */
export async function started(
  t: TestApp,
  user: string,
  claims: Record<string, unknown> = {},
): Promise<string> {
  const res = await startSession(t, user, claims);
  expect(res.status).toBe(201);
  return res.body.session_id as string;
}

export async function endSession(
  t: TestApp,
  user: string,
  id: string,
  claims: Record<string, unknown> = {},
): Promise<void> {
  const res = await t.http.delete(`/session/${id}`).set('Authorization', await t.bearer(user, claims));
  expect(res.status).toBe(204);
}

/** The max_duration Avaturn received for a session. */
export function maxDurationOf(sim: Simulator, sessionId: string): number {
  const session = sim.ledger().sessions.find((s) => s.sessionId === sessionId);
  return (session?.request as { max_duration: number }).max_duration;
}

/** Seconds each user's sessions ran upstream, as the simulator saw them (created to ended). */
export function upstreamSeconds(sim: Simulator, owners: Map<string, string>): Map<string, number> {
  const seconds = new Map<string, number>();
  for (const s of sim.ledger().sessions) {
    const user = owners.get(s.sessionId);
    if (user === undefined || s.endedAt === undefined) continue;
    seconds.set(user, (seconds.get(user) ?? 0) + Math.ceil((s.endedAt - s.createdAt) / 1000));
  }
  return seconds;
}
