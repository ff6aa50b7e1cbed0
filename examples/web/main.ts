import {
  BrokerError,
  createBrokerClient,
  type BrokerClient,
  type BrokerSession,
  watchExpiry,
} from '../../packages/client/src/index.js';
import { budgetExhaustedSentence, minutesLeftToday } from './budget-notes.js';
import { createRetryCountdown } from './retry-countdown.js';

/** Served by the demo's page server; a real app would bake these in at build time. */
interface PageConfig {
  brokerUrl: string;
  idpUrl: string;
  avaturnApiHost: string;
  simulated: boolean;
}

type AvatarHead = import('@avaturn-live/web-sdk').AvaturnHead;

interface State {
  user?: { name: string; token: string };
  session?: BrokerSession;
  head?: AvatarHead;
  /** Stops counting the live session down. */
  stopExpiryWatch?: () => void;
  /** The live session's seconds left, shown in its last minute (`expiringSoon`). */
  countdown?: { secondsLeft: number; expiringSoon: boolean };
  /** "3.5 of 5 minutes left today.", or undefined where the broker sets no daily budget. */
  minutesLeft?: string;
  /** The key of a create whose answer was lost: clicking again collects that session instead of a second one. */
  unansweredKey?: string;
  /** A create is on its way: a second click would start (and bill) a second session. */
  starting?: boolean;
}

/** The Avaturn SDK waits for the avatar's video forever unless told otherwise. */
const avatarConnectTimeoutMs = 30_000;

function byTestId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.querySelector<T>(`[data-testid="${id}"]`);
  if (element === null) throw new Error(`the page has no ${id}`);
  return element;
}

const ui = {
  signInForm: byTestId<HTMLFormElement>('signed-out'),
  userInput: byTestId<HTMLInputElement>('user-input'),
  signInButton: byTestId<HTMLButtonElement>('sign-in'),
  signedIn: byTestId('signed-in'),
  userName: byTestId('user-name'),
  start: byTestId<HTMLButtonElement>('start'),
  stop: byTestId<HTMLButtonElement>('stop'),
  logOut: byTestId<HTMLButtonElement>('log-out'),
  session: byTestId('session'),
  sessionId: byTestId('session-id'),
  sessionExpiry: byTestId('session-expiry'),
  sessionCountdown: byTestId('session-countdown'),
  minutesLeft: byTestId('minutes-left'),
  mediaNote: byTestId('media-note'),
  avatar: byTestId('avatar'),
  error: byTestId('error'),
  errorMessage: byTestId('error-message'),
  errorMeta: byTestId('error-meta'),
  retryCountdown: byTestId('retry-countdown'),
  status: byTestId('status'),
  endpoints: byTestId('endpoints'),
};

const state: State = {};
// Start waits out the broker's Retry-After (429, 503) instead of asking again too soon.
const retryCountdown = createRetryCountdown(ui.retryCountdown, () => render());

const clockTime = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

function formatExpiry(at: Date): string {
  const minutes = Math.round((at.getTime() - Date.now()) / 60_000);
  return `${clockTime.format(at)} (${relative.format(minutes, 'minute')})`;
}

function render(): void {
  const { user, session } = state;
  ui.signInForm.hidden = user !== undefined;
  ui.signedIn.hidden = user === undefined;
  ui.userName.textContent = user?.name ?? '';
  ui.stop.hidden = session === undefined;
  ui.session.hidden = session === undefined;
  ui.sessionId.textContent = session?.sessionId ?? '';
  ui.sessionExpiry.textContent = session === undefined ? '' : formatExpiry(session.expiresAt);
  const countdown = session === undefined ? undefined : state.countdown;
  ui.sessionCountdown.hidden = countdown?.expiringSoon !== true;
  ui.sessionCountdown.textContent =
    countdown?.expiringSoon === true ? `Your avatar stops in ${countdown.secondsLeft} s.` : '';
  ui.minutesLeft.hidden = user === undefined || state.minutesLeft === undefined;
  ui.minutesLeft.textContent = user === undefined ? '' : (state.minutesLeft ?? '');
  ui.avatar.hidden = state.head === undefined;
  // One session at a time: Start waits while one is starting or live, and while a Retry-After runs.
  ui.start.disabled = state.starting === true || session !== undefined || retryCountdown.running;
}

function say(message: string): void {
  ui.status.textContent = message;
}

function showError(err: unknown, context?: string): void {
  ui.error.hidden = false;
  const prefix = context === undefined ? '' : `${context}: `;
  if (err instanceof BrokerError) {
    // A budget resets hours away: a sentence with the time, not a countdown in seconds.
    const budget = err.code === 'budget-exhausted';
    const countdown =
      !budget && (err.status === 429 || err.status === 503) && err.retryAfterSeconds !== undefined;
    // With a countdown, the countdown alone says when: two numbers would soon disagree.
    const message = budget
      ? budgetExhaustedSentence(err)
      : countdown
        ? err.message.replace(/ Try again in [^.]+\.$/, '')
        : err.message;
    ui.errorMessage.textContent = `${prefix}${message} (${err.code})`;
    const meta = [err.status === 0 ? 'no answer' : `HTTP ${err.status}`];
    if (err.requestId !== undefined) meta.push(`request id ${err.requestId}`);
    ui.errorMeta.textContent = meta.join(' · ');
    if (countdown) retryCountdown.start(err.retryAfterSeconds!);
  } else {
    ui.errorMessage.textContent = `${prefix}${err instanceof Error ? err.message : String(err)}`;
    ui.errorMeta.textContent = '';
  }
}

/** A new start ends the countdown it waited for; Stop and Log out leave a limit's countdown running. */
function clearError(endCountdown: boolean): void {
  if (endCountdown) retryCountdown.stop();
  ui.error.hidden = true;
  ui.errorMessage.textContent = '';
  ui.errorMeta.textContent = '';
}

/** Disables the buttons while `work` runs, and reports what it throws. */
async function busy(
  buttons: HTMLButtonElement[],
  work: () => Promise<void>,
  context?: string,
  endCountdown = false,
): Promise<void> {
  clearError(endCountdown);
  buttons.forEach((b) => (b.disabled = true));
  try {
    await work();
  } catch (err) {
    showError(err, context);
  } finally {
    buttons.forEach((b) => (b.disabled = false));
    render();
  }
}

async function signIn(config: PageConfig, name: string): Promise<void> {
  const res = await fetch(`${config.idpUrl}/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ user: name }),
  }).catch(() => undefined);
  const body = (await res?.json().catch(() => undefined)) as
    { access_token?: string; error_description?: string } | undefined;
  if (res?.ok !== true || body?.access_token === undefined) {
    throw new Error(body?.error_description ?? 'The sign-in service could not be reached.');
  }
  state.user = { name, token: body.access_token };
  say('');
}

async function askForMicrophone(): Promise<void> {
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    stream.getTracks().forEach((track) => track.stop());
  } catch {
    throw new Error('The avatar needs your microphone. Allow it in the browser and try again.');
  }
}

async function mountAvatar(config: PageConfig, client: BrokerClient, session: BrokerSession): Promise<void> {
  const { AvaturnHead } = await import('@avaturn-live/web-sdk');
  const head = new AvaturnHead(ui.avatar, {
    sessionToken: session.token,
    audioSource: true,
    apiHost: config.avaturnApiHost,
  });
  state.head = head;
  render();
  try {
    await head.init({ timeout: avatarConnectTimeoutMs });
  } catch {
    // init rejects with a bare string ("Connection timeout") or the SDK's HTTP error: either
    // way the session is paid for and useless, so end it rather than leave it running.
    await releaseMedia();
    state.session = undefined;
    await client.endSession(session.sessionId).catch(() => false);
    throw new Error(
      `The avatar did not connect within ${avatarConnectTimeoutMs / 1000} s. Check your connection and try again.`,
    );
  }
}

/** The minutes left today, after sign-in and after every start and end; nothing on a broker without budgets. */
async function refreshLimits(client: BrokerClient): Promise<void> {
  if (state.user === undefined) {
    state.minutesLeft = undefined;
  } else {
    // A broker without daily budgets, or one older than GET /me/limits, leaves the line out.
    state.minutesLeft = await client.getLimits().then(minutesLeftToday, () => undefined);
  }
  render();
}

async function releaseMedia(): Promise<void> {
  const head = state.head;
  state.head = undefined;
  state.stopExpiryWatch?.();
  state.stopExpiryWatch = undefined;
  // dispose() only leaves the call; ending the session is the broker's job.
  await head?.dispose().catch(() => undefined);
}

/** Avaturn ends the session at expiresAt by itself (a budget may have made it short): count its last minute down. */
function watchSession(client: BrokerClient, session: BrokerSession): void {
  state.countdown = undefined;
  state.stopExpiryWatch = watchExpiry(session.expiresAt, {
    onExpiringSoon(secondsLeft) {
      state.countdown = { secondsLeft, expiringSoon: true };
    },
    onTick(secondsLeft) {
      if (state.session !== session) return;
      state.countdown = { secondsLeft, expiringSoon: state.countdown?.expiringSoon === true };
      if (secondsLeft > 0) {
        render();
        return;
      }
      state.session = undefined;
      void releaseMedia().then(render);
      say('Your avatar session reached its time limit.');
      void refreshLimits(client);
    },
  });
}

async function startAvatar(config: PageConfig, client: BrokerClient): Promise<void> {
  // Browsers only prompt inside the user's gesture, so ask before the first await on the network.
  if (!config.simulated) await askForMicrophone();
  const idempotencyKey = state.unansweredKey ?? crypto.randomUUID();
  state.unansweredKey = idempotencyKey;
  let session: BrokerSession;
  state.starting = true;
  try {
    session = await client.createSession({ idempotencyKey });
    state.unansweredKey = undefined;
  } catch (err) {
    const lost =
      err instanceof BrokerError && (err.code === 'network-error' || err.code === 'idempotency-in-progress');
    if (!lost) state.unansweredKey = undefined;
    throw err;
  } finally {
    state.starting = false;
  }
  // With the default policy the broker has already ended the session this one replaces.
  await releaseMedia();
  state.session = session;
  watchSession(client, session);
  render();
  if (config.simulated) {
    ui.mediaNote.hidden = false;
    say('Avatar session started.');
    return;
  }
  ui.mediaNote.hidden = true;
  await mountAvatar(config, client, session);
  say('Avatar connected. Say hello!');
}

async function endAvatar(client: BrokerClient): Promise<void> {
  const session = state.session;
  if (session === undefined) return;
  await releaseMedia();
  const ended = await client.endSession(session.sessionId);
  state.session = undefined;
  ui.mediaNote.hidden = true;
  say(ended ? 'Your avatar session has ended.' : 'Your avatar session had already ended.');
}

async function main(): Promise<void> {
  const config = (await (await fetch('/config.json')).json()) as PageConfig;
  const client = createBrokerClient({
    baseUrl: config.brokerUrl,
    getToken: () => {
      if (state.user === undefined) throw new Error('Sign in first.');
      return state.user.token;
    },
    // Closing the tab, reloading or navigating away ends the session instead of leaving it billed.
    endOnPageHide: true,
  });
  ui.endpoints.textContent = `Broker ${config.brokerUrl} · identity provider ${config.idpUrl}${
    config.simulated ? ' · upstreams simulated' : ''
  }`;

  ui.signInForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const name = ui.userInput.value.trim();
    void busy([ui.signInButton], () => signIn(config, name), 'Could not sign in').then(() =>
      refreshLimits(client),
    );
  });
  ui.start.addEventListener('click', () => {
    void busy(
      [ui.start, ui.stop, ui.logOut],
      () => startAvatar(config, client),
      'Could not start the avatar',
      true,
    ).then(() => refreshLimits(client));
  });
  ui.stop.addEventListener('click', () => {
    void busy([ui.start, ui.stop, ui.logOut], () => endAvatar(client), 'Could not end the avatar').then(() =>
      refreshLimits(client),
    );
  });
  window.addEventListener('pageshow', (event) => {
    // Back from the back/forward cache: the client ended the session when the page was hidden.
    if (!event.persisted || state.session === undefined) return;
    state.session = undefined;
    ui.mediaNote.hidden = true;
    void releaseMedia().then(render);
    say('Your avatar session ended when you left the page. Start it again to continue.');
    void refreshLimits(client);
  });
  ui.logOut.addEventListener('click', () => {
    void busy(
      [ui.start, ui.stop, ui.logOut],
      async () => {
        // Stay signed in when the session could not be ended, so the user can try again.
        await endAvatar(client);
        state.user = undefined;
        ui.userInput.value = '';
        say('You are signed out.');
      },
      'Could not end the avatar',
      true,
    ).then(() => refreshLimits(client));
  });
  render();
}

main().catch((err: unknown) => {
  showError(err, 'The page could not start');
});
