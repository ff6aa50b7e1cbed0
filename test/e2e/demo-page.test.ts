import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startDemo, type RunningDemo } from '../../scripts/demo/start-demo';
import { launchChromium } from '../helpers/chromium';
import { eventually } from '../helpers/waiting';

const outputDir = join(__dirname, '..', '..', 'test-output');

interface DemoInChromium {
  readonly demo: RunningDemo;
  /** Errors thrown in the pages and 404s they met, since the test began. */
  readonly pageErrors: string[];
  /** A new page (US English, UTC) signed in as `user`; `beforeLoad` runs on the blank page first. */
  openSignedIn(user: string, beforeLoad?: (page: Page) => Promise<void>): Promise<Page>;
}

/** The demo with these broker variables and one Chromium, for the tests of the enclosing describe. */
function useDemoInChromium(brokerEnv: Record<string, string>): DemoInChromium {
  let demo: RunningDemo | undefined;
  let browser: Browser | undefined;
  let pageErrors: string[] = [];

  beforeAll(async () => {
    demo = await startDemo({
      ports: { simulator: 0, idp: 0, broker: 0, page: 0 },
      brokerEnv: { LOG_LEVEL: 'silent', ...brokerEnv },
    });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await demo?.stop();
  });

  beforeEach(() => {
    pageErrors = [];
    demo?.sim.reset();
  });

  return {
    get demo() {
      if (demo === undefined) throw new Error('the demo has not started');
      return demo;
    },
    get pageErrors() {
      return pageErrors;
    },
    async openSignedIn(user, beforeLoad) {
      const page = await browser!.newPage({
        viewport: { width: 900, height: 720 },
        locale: 'en-US',
        timezoneId: 'UTC',
      });
      page.on('pageerror', (err) => pageErrors.push(err.message));
      // A missing asset, the favicon included, would be a 404 on every load.
      page.on('response', (res) => res.status() === 404 && pageErrors.push(`404 ${res.url()}`));
      await beforeLoad?.(page);
      await page.goto(this.demo.urls.page);
      await page.getByTestId('user-input').fill(user);
      await page.getByTestId('sign-in').click();
      await page.getByTestId('signed-in').waitFor();
      expect(await page.getByTestId('user-name').textContent()).toBe(user);
      return page;
    },
  };
}

describe('npm run demo › the example page in headless Chromium', () => {
  // No budgets here: the page must work as it did, without a minutes line.
  const w = useDemoInChromium({ USER_DAILY_MINUTES: '0' });

  it('signs in, starts an avatar bound to a fresh credential, and logs out, ending it upstream', async () => {
    expect(new URL(w.demo.urls.page).origin).not.toBe(new URL(w.demo.urls.broker).origin);
    const page = await w.openSignedIn('Ada Lovelace');

    expect(await page.getByTestId('start').isDisabled()).toBe(false);
    await page.getByTestId('start').click();
    await page.getByTestId('session').waitFor();
    const sessionId = await page.getByTestId('session-id').textContent();
    expect(sessionId).toMatch(/^[A-Za-z0-9_-]{1,128}$/);
    // One session at a time: a second click cannot start (and bill) another.
    expect(await page.getByTestId('start').isDisabled()).toBe(true);
    // The demo's short sessions (demoLimits): 3 minutes.
    expect(await page.getByTestId('session-expiry').textContent()).toMatch(/\(in 3 minutes\)$/);
    expect(await page.getByTestId('minutes-left').isVisible()).toBe(false);
    expect(await page.getByTestId('session-countdown').isVisible()).toBe(false);
    expect(await page.getByTestId('media-note').textContent()).toBe(
      'Simulated upstream: no video in this demo.',
    );

    const live = w.demo.sim.ledger();
    expect(live.sessions).toEqual([expect.objectContaining({ sessionId, state: 'live' })]);
    expect(live.credentials).toHaveLength(1);
    const credential = live.credentials[0]!;
    expect(credential.usedBy).toEqual([sessionId]);
    expect(live.sessions[0]!.request).toMatchObject({
      conversation_engine: { client_secret: credential.value },
    });

    mkdirSync(outputDir, { recursive: true });
    await page.screenshot({ path: join(outputDir, 'demo-page.png'), fullPage: true });

    await page.getByTestId('log-out').click();
    await page.getByTestId('signed-out').waitFor();
    expect(await page.getByTestId('status').textContent()).toBe('You are signed out.');
    expect(await page.getByTestId('error').isVisible()).toBe(false);

    const ended = w.demo.sim.ledger();
    expect(ended.sessions).toEqual([
      expect.objectContaining({ sessionId, state: 'ended', endedBy: 'delete' }),
    ]);
    expect(ended.calls.filter((c) => c.route === 'avaturn.terminate')).toEqual([
      expect.objectContaining({ path: `/api/v1/sessions/${sessionId}`, status: 200 }),
    ]);
    expect(w.pageErrors).toEqual([]);
    await page.close();
  }, 60_000);

  it('explains an Avaturn outage in words, with its code, and shows no session', async () => {
    w.demo.sim.inject({ route: 'avaturn.create', status: 503, times: 0 });
    const page = await w.openSignedIn('Grace');

    await page.getByTestId('start').click();
    await page.getByTestId('error').waitFor();
    // One number: the countdown says when, the message does not repeat it.
    expect(await page.getByTestId('error-message').textContent()).toBe(
      'Could not start the avatar: The avatar service is unavailable right now. (upstream-unavailable)',
    );
    expect(await page.getByTestId('retry-countdown').textContent()).toMatch(/^You can try again in \d+ s\.$/);
    expect(await page.getByTestId('error-meta').textContent()).toMatch(/^HTTP 503 · request id \S+$/);
    expect(await page.getByTestId('session').isVisible()).toBe(false);
    expect(w.demo.sim.liveSessions()).toEqual([]);
    await page.screenshot({ path: join(outputDir, 'demo-page-error.png'), fullPage: true });
    expect(w.pageErrors).toEqual([]);
    await page.close();
  }, 60_000);

  it('ends the session when the tab is closed, without a click', async () => {
    const page = await w.openSignedIn('Alan');
    await page.getByTestId('start').click();
    await page.getByTestId('session').waitFor();
    const sessionId = await page.getByTestId('session-id').textContent();
    await page.close({ runBeforeUnload: true });
    await eventually(() =>
      expect(w.demo.sim.ledger().sessions).toEqual([
        expect.objectContaining({ sessionId, state: 'ended', endedBy: 'delete' }),
      ]),
    );
    expect(w.pageErrors).toEqual([]);
  }, 60_000);

  it('counts a 503’s Retry-After down, holding Start back until it runs out', async () => {
    w.demo.sim.inject({ route: 'avaturn.create', status: 503, retryAfter: '30', times: 0 });
    const page = await w.openSignedIn('Barbara', (p) => p.clock.install());
    await page.getByTestId('start').click();
    const countdown = page.getByTestId('retry-countdown');
    await countdown.filter({ hasText: 'You can try again in 30 s.' }).waitFor();
    expect(await page.getByTestId('error-meta').textContent()).toMatch(/^HTTP 503 · request id \S+$/);
    expect(await page.getByTestId('start').isDisabled()).toBe(true);

    await page.clock.runFor(10_000);
    await countdown.filter({ hasText: 'You can try again in 20 s.' }).waitFor();
    expect(await page.getByTestId('start').isDisabled()).toBe(true);

    await page.clock.runFor(20_000);
    await countdown.filter({ hasText: 'You can try again now.' }).waitFor();
    expect(await page.getByTestId('start').isDisabled()).toBe(false);
    await page.screenshot({ path: join(outputDir, 'demo-page-retry-after.png'), fullPage: true });

    w.demo.sim.clearFaults();
    await page.getByTestId('start').click();
    await page.getByTestId('session').waitFor();
    expect(await countdown.isVisible()).toBe(false);
    expect(w.pageErrors).toEqual([]);
    await page.close();
  }, 60_000);

  it('Stop keeps a limit’s countdown running, and Start held back until it ends', async () => {
    const page = await w.openSignedIn('Edsger', (p) => p.clock.install());
    await page.getByTestId('start').click();
    await page.getByTestId('session').waitFor();

    w.demo.sim.inject({ route: 'avaturn.terminate', status: 500, times: 0 });
    await page.getByTestId('stop').click();
    const countdown = page.getByTestId('retry-countdown');
    await countdown.filter({ hasText: /^You can try again in \d+ s\.$/ }).waitFor();
    expect(await page.getByTestId('error-message').textContent()).toBe(
      'Could not end the avatar: The avatar service is unavailable right now. (upstream-unavailable)',
    );

    w.demo.sim.clearFaults();
    await page.getByTestId('stop').click();
    await page.getByTestId('status').filter({ hasText: 'Your avatar session has ended.' }).waitFor();
    expect(await countdown.isVisible()).toBe(true);
    expect(await page.getByTestId('start').isDisabled()).toBe(true);

    await page.clock.runFor(10_000);
    await countdown.filter({ hasText: 'You can try again now.' }).waitFor();
    expect(await page.getByTestId('start').isDisabled()).toBe(false);
    expect(w.pageErrors).toEqual([]);
    await page.close();
  }, 60_000);
});

describe('npm run demo › the example page with the demo’s daily budget, in headless Chromium', () => {
  // The demo's own 5 minutes a day and 3-minute sessions (demoLimits); three tabs of one user
  // hold three sessions at once, so the budget runs out without waiting for minutes to pass.
  const w = useDemoInChromium({ MAX_SESSIONS_PER_USER: '3', SESSION_LIMIT_POLICY: 'reject' });

  const minutesLeft = (page: Page, text: string) =>
    page.getByTestId('minutes-left').filter({ hasText: text }).waitFor();

  it('shows the minutes left, clamps the session that takes the rest, counts its last minute down, and explains budget-exhausted', async () => {
    const first = await w.openSignedIn('Katherine');
    await minutesLeft(first, '5 of 5 minutes left today.');
    await first.getByTestId('start').click();
    await first.getByTestId('session').waitFor();
    expect(await first.getByTestId('session-expiry').textContent()).toMatch(/\(in 3 minutes\)$/);
    await minutesLeft(first, '2 of 5 minutes left today.');

    const second = await w.openSignedIn('Katherine', (p) => p.clock.install());
    await minutesLeft(second, '2 of 5 minutes left today.');
    await second.getByTestId('start').click();
    await second.getByTestId('session').waitFor();
    const clampedId = await second.getByTestId('session-id').textContent();
    expect(w.demo.sim.ledger().sessions.find((s) => s.sessionId === clampedId)?.request).toMatchObject({
      max_duration: 120,
    });
    expect(await second.getByTestId('session-expiry').textContent()).toMatch(/\(in 2 minutes\)$/);
    await minutesLeft(second, '0 of 5 minutes left today.');

    const third = await w.openSignedIn('Katherine');
    await minutesLeft(third, '0 of 5 minutes left today.');
    await third.getByTestId('start').click();
    await third.getByTestId('error').waitFor();
    expect(await third.getByTestId('error-message').textContent()).toMatch(
      /^Could not start the avatar: You have used today’s minutes; they reset at 00:00 UTC \(in [^)]+\)\. \(budget-exhausted\)$/,
    );
    expect(await third.getByTestId('error-meta').textContent()).toMatch(/^HTTP 429 · request id \S+$/);
    expect(await third.getByTestId('retry-countdown').isVisible()).toBe(false);
    expect(await third.getByTestId('session').isVisible()).toBe(false);
    expect(w.demo.sim.ledger().sessions).toHaveLength(2);
    await third.screenshot({ path: join(outputDir, 'demo-page-budget-exhausted.png'), fullPage: true });

    // The clamped session's last minute, on that tab's own clock.
    const countdown = second.getByTestId('session-countdown');
    expect(await countdown.isVisible()).toBe(false);
    await second.clock.fastForward(61_000);
    await countdown.filter({ hasText: /^Your avatar stops in \d+ s\.$/ }).waitFor();
    await second.screenshot({ path: join(outputDir, 'demo-page-last-minute.png'), fullPage: true });
    await second.clock.fastForward(60_000);
    await second
      .getByTestId('status')
      .filter({ hasText: 'Your avatar session reached its time limit.' })
      .waitFor();
    expect(await second.getByTestId('session').isVisible()).toBe(false);
    expect(await countdown.isVisible()).toBe(false);

    expect(w.pageErrors).toEqual([]);
    await Promise.all([first.close(), second.close(), third.close()]);
  }, 60_000);
});
