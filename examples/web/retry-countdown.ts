/** Counts a `Retry-After` down to the moment trying again is worth it, holding a button back until then. */
export interface RetryCountdown {
  readonly running: boolean;
  start(seconds: number): void;
  /** Hides the countdown (a new action began, or the user left). */
  stop(): void;
}

/** `onChange` runs on every tick and when it runs out, so the page can hold its button back meanwhile. */
export function createRetryCountdown(element: HTMLElement, onChange: () => void): RetryCountdown {
  let timer: ReturnType<typeof setInterval> | undefined;
  let retryAt: number | undefined;

  function halt(): void {
    clearInterval(timer);
    timer = undefined;
    retryAt = undefined;
  }

  function tick(): void {
    if (retryAt === undefined) return;
    const left = Math.ceil((retryAt - Date.now()) / 1000);
    if (left > 0) {
      element.textContent = `You can try again in ${left} s.`;
      onChange();
      return;
    }
    halt();
    element.textContent = 'You can try again now.';
    onChange();
  }

  return {
    get running() {
      return retryAt !== undefined;
    },
    start(seconds) {
      halt();
      retryAt = Date.now() + seconds * 1000;
      element.hidden = false;
      tick();
      timer = setInterval(tick, 1000);
    },
    stop() {
      halt();
      element.hidden = true;
    },
  };
}
