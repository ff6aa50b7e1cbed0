/**
 * Ends the sessions a page still holds when the page goes away (tab closed, reload, navigation):
 * a session left running is billed until Avaturn notices that nobody is there.
 */
export interface PageHideEnder {
  /** A session this page holds: ended at page hide unless forgotten or expired by then. */
  track(sessionId: string, expiresAt: Date): void;
  forget(sessionId: string): void;
  /** Keeps the freshest bearer token: a pagehide listener runs to completion and cannot await one. */
  useToken(token: string): void;
}

export interface PageHideEnderOptions {
  /** Sends the request that ends the session, synchronously (a keepalive fetch outlives the page). */
  end(sessionId: string, token: string): void;
  /**
   * Asked when the page becomes hidden (the step before most page hides): a token provider that
   * answers from its cache in a microtask refreshes the kept token before pagehide arrives.
   */
  refreshToken(): void;
}

const noPageEnder: PageHideEnder = { track() {}, forget() {}, useToken() {} };

/** Listens only while it holds a session; outside a page (Node, workers) it does nothing. */
export function createPageHideEnder(options: PageHideEnderOptions): PageHideEnder {
  if (typeof window === 'undefined' || typeof document === 'undefined') return noPageEnder;
  const sessions = new Map<string, number>();
  let token: string | undefined;

  function onPageHide(): void {
    const now = Date.now();
    for (const [sessionId, expiresAt] of sessions) {
      if (expiresAt > now && token !== undefined) options.end(sessionId, token);
    }
    sessions.clear();
    listen(false);
  }

  function onVisibilityChange(): void {
    if (document.visibilityState === 'hidden') options.refreshToken();
  }

  function listen(on: boolean): void {
    const method = on ? 'addEventListener' : 'removeEventListener';
    window[method]('pagehide', onPageHide);
    document[method]('visibilitychange', onVisibilityChange);
  }

  return {
    track(sessionId, expiresAt) {
      if (sessions.size === 0) listen(true);
      sessions.set(sessionId, expiresAt.getTime());
    },
    forget(sessionId) {
      if (sessions.delete(sessionId) && sessions.size === 0) listen(false);
    },
    useToken(value) {
      token = value;
    },
  };
}
