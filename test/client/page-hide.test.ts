import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { signToken } from '../fixtures/tokens';
import { useBrowserWorld } from '../helpers/browser-world';
import { eventually } from '../helpers/waiting';

describe('the client in headless Chromium, calling the broker from another origin', () => {
  const world = useBrowserWorld(join(__dirname, 'pages', 'page-hide-page.ts'), {
    MAX_SESSIONS_PER_USER: '5',
  });
  let tokens: string[];

  beforeEach(async () => {
    tokens = [await signToken({ sub: 'alice', n: 1 }), await signToken({ sub: 'alice', n: 2 })];
  });

  function addClient(page: Page, endOnPageHide?: boolean): Promise<number> {
    return page.evaluate((options) => window.harness.addClient(options), {
      baseUrl: world().brokerUrl,
      tokens,
      endOnPageHide,
    });
  }

  function create(page: Page, client: number, idempotencyKey?: string) {
    return page.evaluate(([c, key]) => window.harness.create(c, key), [client, idempotencyKey] as const);
  }

  async function pageWithSession() {
    const page = await world().open();
    const { sessionId } = await create(page, await addClient(page));
    expect(world().t.sim.ledger().sessions).toEqual([expect.objectContaining({ sessionId, state: 'live' })]);
    return { page, sessionId };
  }

  function endedByDelete(sessionId: string) {
    return eventually(() =>
      expect(world().t.sim.ledger().sessions).toContainEqual(
        expect.objectContaining({ sessionId, state: 'ended', endedBy: 'delete' }),
      ),
    );
  }

  describe('when the page goes away', () => {
    it('ends the session on navigation: the keepalive request reaches the broker from another origin', async () => {
      const { page, sessionId } = await pageWithSession();
      await page.goto(world().elsewhereUrl);
      await endedByDelete(sessionId);
      await page.close();
    });

    it('ends the session when the tab is closed', async () => {
      const { page, sessionId } = await pageWithSession();
      await page.close({ runBeforeUnload: true });
      await endedByDelete(sessionId);
    });
  });

  it('at page hide, ends only the sessions still held, with the token refreshed when the page was hidden', async () => {
    const page = await world().open();
    const [ended, optedOut, held] = [
      await addClient(page),
      await addClient(page, false),
      await addClient(page),
    ];
    const first = await create(page, ended);
    await page.evaluate(([c, id]) => window.harness.end(c, id), [ended, first.sessionId] as const);
    const kept = await create(page, optedOut);
    const last = await create(page, held);

    await page.evaluate(() => window.harness.hideAndLeave());

    const atPageHide = (await page.evaluate(() => window.harness.sent())).filter((r) => r.keepalive);
    expect(atPageHide).toEqual([
      {
        method: 'POST',
        url: `${world().brokerUrl}/session/${last.sessionId}/end`,
        keepalive: true,
        headers: {},
        body: tokens[1],
      },
    ]);
    await endedByDelete(last.sessionId);
    expect(world().t.sim.ledger().sessions).toContainEqual(
      expect.objectContaining({ sessionId: kept.sessionId, state: 'live' }),
    );
    await page.close();
  });

  it('reads Idempotent-Replayed across origins: a retried create collects the same session, marked replayed', async () => {
    const page = await world().open();
    const client = await addClient(page);
    const first = await create(page, client, 'click-1');
    const again = await create(page, client, 'click-1');
    expect(first).toEqual({ sessionId: expect.any(String), replayed: false });
    expect(again).toEqual({ sessionId: first.sessionId, replayed: true });
    expect(world().t.sim.ledger().sessions).toHaveLength(1);
    await page.close();
  });
});
