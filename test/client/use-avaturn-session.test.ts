import { join } from 'node:path';
import type { Page, Request, Route } from 'playwright-core';
import { signToken } from '../fixtures/tokens';
import { useBrowserWorld } from '../helpers/browser-world';
import { eventually } from '../helpers/waiting';

describe('useAvaturnSession under React StrictMode, in headless Chromium against the real broker', () => {
  const world = useBrowserWorld(join(__dirname, 'pages', 'hook-page.ts'));
  let hash: string;

  beforeEach(async () => {
    const token = await signToken({ sub: 'alice' });
    hash = `#${new URLSearchParams({ broker: world().brokerUrl, token })}`;
  });

  const isCreate = (request: Request) =>
    request.method() === 'POST' && request.url() === `${world().brokerUrl}/session`;

  async function textIs(page: Page, testId: string, text: string): Promise<void> {
    await page
      .getByTestId(testId)
      .filter({ hasText: new RegExp(`^${text}$`) })
      .waitFor();
  }

  const statusIs = (page: Page, status: string) => textIs(page, 'status', status);

  function ledgerShowsOne(state: 'live' | 'ended') {
    const [session, ...others] = world().t.sim.ledger().sessions;
    expect(others).toEqual([]);
    expect(session).toMatchObject(state === 'live' ? { state } : { state, endedBy: 'delete' });
    return session!;
  }

  it('makes one create and one session despite the double effect, hands out its token, and ends it on unmount', async () => {
    const creates: Request[] = [];
    const page = await world().open(hash, async (p) => {
      p.on('request', (request) => {
        if (isCreate(request)) creates.push(request);
      });
    });
    await statusIs(page, 'live');
    expect(await page.evaluate(() => window.hook.effectRuns())).toBe(2);
    expect(creates).toHaveLength(1);
    expect(creates[0]!.headers()['idempotency-key']).toMatch(/^[0-9a-f]{32}$/);
    const upstream = ledgerShowsOne('live');
    expect(
      world()
        .t.sim.ledger()
        .calls.filter((c) => c.route === 'avaturn.create'),
    ).toHaveLength(1);
    expect(await page.getByTestId('session-id').textContent()).toBe(upstream.sessionId);
    expect(await page.getByTestId('token').textContent()).toBe(upstream.token);

    await page.evaluate(() => window.hook.unmount());
    await eventually(() => ledgerShowsOne('ended'));
    expect(creates).toHaveLength(1);
    await page.close();
  });

  it('ends the session on logout (end()) and starts no other while the component stays', async () => {
    const page = await world().open(hash);
    await statusIs(page, 'live');
    await page.getByTestId('log-out').click();
    await statusIs(page, 'ended');
    ledgerShowsOne('ended');
    expect(await page.getByTestId('token').textContent()).toBe('');

    await page.evaluate(() => window.hook.unmount());
    expect(world().t.sim.ledger().sessions).toHaveLength(1);
    await page.close();
  });

  it('ends the session when the component unmounts while its create is still on its way', async () => {
    let heldCreate: Route | undefined;
    const page = await world().open(hash, (p) =>
      p.route(`${world().brokerUrl}/session`, async (route) => {
        if (route.request().method() === 'POST') heldCreate = route;
        else await route.continue();
      }),
    );
    await eventually(() => expect(heldCreate).toBeDefined());
    await statusIs(page, 'starting');
    await page.evaluate(() => window.hook.unmount());
    expect(world().t.sim.ledger().sessions).toEqual([]);

    await heldCreate!.continue();
    await eventually(() => ledgerShowsOne('ended'));
    await page.close();
  });

  it('shows the broker’s error in words, and starts again when asked', async () => {
    world().t.sim.inject({ route: 'avaturn.create', status: 503, times: 0 });
    const page = await world().open(hash);
    await statusIs(page, 'error');
    expect(await page.getByTestId('error').textContent()).toMatch(
      /^The avatar service is unavailable right now\. Try again in \d+ s\. \(upstream-unavailable\)$/,
    );
    expect(world().t.sim.liveSessions()).toEqual([]);

    world().t.sim.clearFaults();
    await page.getByTestId('start').click();
    await statusIs(page, 'live');
    ledgerShowsOne('live');
    await page.close();
  });

  it('holds no session while not enabled, starts one when enabled, and ends it when disabled again', async () => {
    const page = await world().open(`${hash}&enabled=false`);
    await statusIs(page, 'idle');
    expect(world().t.sim.ledger().sessions).toEqual([]);

    await page.evaluate(() => window.hook.setEnabled(true));
    await statusIs(page, 'live');
    ledgerShowsOne('live');

    await page.evaluate(() => window.hook.setEnabled(false));
    await statusIs(page, 'ended');
    ledgerShowsOne('ended');
    await page.close();
  });

  it('counts the seconds left down, warns once 60 s before expires_at, and is ended at expires_at', async () => {
    const page = await world().open(hash, (p) => p.clock.install());
    await statusIs(page, 'live');
    const expiresAt = Date.parse((await page.getByTestId('expires-at').textContent()) ?? '');
    const warnings = () => page.evaluate(() => window.hook.expiringSoonCalls());

    await page.clock.pauseAt(expiresAt - 61_000);
    await textIs(page, 'seconds-left', '61');
    expect(await warnings()).toEqual([]);

    await page.clock.runFor(1_000);
    await textIs(page, 'seconds-left', '60');
    expect(await warnings()).toEqual([60]);

    await page.clock.runFor(30_000);
    await textIs(page, 'seconds-left', '30');
    await page.clock.runFor(30_000);
    await statusIs(page, 'ended');
    expect(await page.getByTestId('seconds-left').textContent()).toBe('');
    expect(await page.getByTestId('token').textContent()).toBe('');
    expect(await warnings()).toEqual([60]);
    await page.close();
  });

  it('warns at once when the session starts with less than 60 s left, and only once', async () => {
    // The page's clock runs 850 s ahead of the broker's, so the 900 s session has about 50 s left.
    const page = await world().open(hash, (p) => p.clock.install({ time: Date.now() + 850_000 }));
    await statusIs(page, 'live');
    const warnings = () => page.evaluate(() => window.hook.expiringSoonCalls());
    const [first, ...others] = await warnings();
    expect(others).toEqual([]);
    expect(first).toBeLessThan(60);
    expect(first).toBeGreaterThan(0);

    await page.clock.runFor(5_000);
    expect(await warnings()).toEqual([first]);
    await page.close();
  });
});
