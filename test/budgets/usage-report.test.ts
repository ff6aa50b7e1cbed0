import { parse } from 'csv-parse/sync';
import { expectProblem } from '../helpers/build-test-app';
import { storeKinds } from '../helpers/world';
import {
  admin,
  buildBudgetWorld,
  endSession,
  started,
  upstreamSeconds,
  type BudgetWorld,
} from './budget-world';

interface Row {
  key: string;
  sessions: number;
  seconds: number;
}

describe.each(storeKinds)('GET /admin/usage (%s store)', (kind) => {
  let w: BudgetWorld;
  afterEach(async () => {
    await w.dispose();
  });

  async function report(query: string, accept = 'application/json') {
    return w.t.http.get(`/admin/usage?${query}`).set('Authorization', admin).set('Accept', accept);
  }

  async function json(query: string): Promise<Row[]> {
    const res = await report(query);
    expect(res.status).toBe(200);
    return res.body.rows as Row[];
  }

  /** The same report as CSV, read back by a real CSV parser. */
  async function csv(query: string): Promise<Row[]> {
    const res = await report(query, 'text/csv');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    const records = parse(res.text, { columns: true, relax_column_count: false }) as Record<string, string>[];
    expect(res.text.split('\r\n')[0]).toBe('key,sessions,seconds');
    return records.map((r) => ({ key: r.key!, sessions: Number(r.sessions), seconds: Number(r.seconds) }));
  }

  it('adds up settled sessions per user, tenant, profile and day, as JSON and as CSV, agreeing with the simulator', async () => {
    w = await buildBudgetWorld(
      kind,
      { AUTH_TENANT_CLAIM: 'org_id', MAX_SESSIONS_PER_USER: '3', SESSION_LIMIT_POLICY: 'reject' },
      Date.parse('2030-01-15T22:00:00Z'),
    );
    const { t, sim, clock } = w;
    const owners = new Map<string, string>();
    // A user id with a comma and a quote, so the CSV has to quote it.
    const odd = 'o"dd,user';
    const run = async (user: string, org: string, seconds: number, profile = 'default') => {
      const res = await t.http
        .post('/session')
        .set('Authorization', await t.bearer(user, { org_id: org }))
        .send({ profile });
      expect(res.status).toBe(201);
      owners.set(res.body.session_id as string, user);
      clock.advance(seconds * 1000);
      await endSession(t, user, res.body.session_id as string, { org_id: org });
    };
    await run('alice', 'acme', 100);
    await run('alice', 'acme', 20, 'support');
    await run('bob', 'acme', 30);
    await run(odd, 'globex', 45);
    clock.set(Date.parse('2030-01-16T09:00:00Z'));
    await run('alice', 'acme', 7);
    // A live session is not in the report until it ends.
    await started(t, 'carol', { org_id: 'globex' });

    const fromSim = Object.fromEntries(upstreamSeconds(sim, owners));
    expect(fromSim).toEqual({ alice: 127, bob: 30, [odd]: 45 });

    const both = 'from=2030-01-15&to=2030-01-16';
    const byUser = await json(`${both}&group_by=user`);
    expect(byUser).toEqual([
      { key: 'alice', sessions: 3, seconds: 127 },
      { key: odd, sessions: 1, seconds: 45 },
      { key: 'bob', sessions: 1, seconds: 30 },
    ]);
    expect(Object.fromEntries(byUser.map((r) => [r.key, r.seconds]))).toEqual(fromSim);
    expect(await json(`${both}&group_by=tenant`)).toEqual([
      { key: 'acme', sessions: 4, seconds: 157 },
      { key: 'globex', sessions: 1, seconds: 45 },
    ]);
    expect(await json(`${both}&group_by=profile`)).toEqual([
      { key: 'default', sessions: 4, seconds: 182 },
      { key: 'support', sessions: 1, seconds: 20 },
    ]);
    expect(await json(`${both}&group_by=day`)).toEqual([
      { key: '2030-01-15', sessions: 4, seconds: 195 },
      { key: '2030-01-16', sessions: 1, seconds: 7 },
    ]);
    expect(await json('from=2030-01-16&to=2030-01-16&group_by=user')).toEqual([
      { key: 'alice', sessions: 1, seconds: 7 },
    ]);
    for (const group of ['user', 'tenant', 'profile', 'day'])
      expect(await csv(`${both}&group_by=${group}`)).toEqual(await json(`${both}&group_by=${group}`));
    expect((await report(`${both}&group_by=user`)).body).toMatchObject({
      from: '2030-01-15',
      to: '2030-01-16',
      group_by: 'user',
    });
  });

  it('answers 400 for bad dates, ranges and groupings', async () => {
    w = await buildBudgetWorld(kind, {});
    for (const query of [
      'from=2030-01-15&to=2030-01-14&group_by=user',
      'from=2030-02-30&to=2030-03-01&group_by=user',
      'from=2030-1-15&to=2030-01-16&group_by=user',
      'from=2030-01-01&to=2031-01-02&group_by=day',
      'from=2030-01-01&to=2030-01-02&group_by=week',
      'from=2030-01-01&to=2030-01-02',
      'to=2030-01-02&group_by=user',
      'from=2030-01-01&from=2030-01-02&to=2030-01-02&group_by=user',
    ])
      expectProblem(await report(query), 400, 'invalid-request');
    // 366 days is the longest range.
    expect((await report('from=2030-01-01&to=2031-01-01&group_by=day')).status).toBe(200);
    expectProblem(
      await w.t.http.get('/admin/usage?from=2030-01-01&to=2030-01-01&group_by=day'),
      401,
      'unauthenticated',
    );
  });
});
