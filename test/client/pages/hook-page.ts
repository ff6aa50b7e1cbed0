import { StrictMode, createElement as h, useEffect } from 'react';
import { createRoot } from 'react-dom/client';
import { BrokerError, createBrokerClient } from '../../../packages/client/src';
import { useAvaturnSession } from '../../../packages/client/src/react';

export interface HookHarness {
  mount(): void;
  unmount(): void;
  /** Re-renders with `enabled` (the page starts with the hash's `enabled`, default true). */
  setEnabled(enabled: boolean): void;
  /** How often the component's own mount effect ran: 2 shows StrictMode doubled it. */
  effectRuns(): number;
  /** The seconds left each onExpiringSoon call was given, in order. */
  expiringSoonCalls(): number[];
}

declare global {
  interface Window {
    hook: HookHarness;
  }
}

const params = new URLSearchParams(location.hash.slice(1));
const client = createBrokerClient({
  baseUrl: params.get('broker') ?? '',
  getToken: async () => params.get('token') ?? '',
});
let effectRuns = 0;
const expiringSoonCalls: number[] = [];
let enabled = params.get('enabled') !== 'false';

function Avatar() {
  const { status, session, token, error, secondsLeft, end, start } = useAvaturnSession({
    client,
    enabled,
    // A new function each render: the hook must still warn once per session.
    onExpiringSoon: (seconds) => void expiringSoonCalls.push(seconds),
  });
  useEffect(() => {
    effectRuns += 1;
  }, []);
  const problem = error instanceof BrokerError ? `${error.message} (${error.code})` : (error?.message ?? '');
  return h(
    'section',
    null,
    h('p', { 'data-testid': 'status' }, status),
    h('p', { 'data-testid': 'session-id' }, session?.sessionId ?? ''),
    h('p', { 'data-testid': 'token' }, token ?? ''),
    h('p', { 'data-testid': 'expires-at' }, session?.expiresAt.toISOString() ?? ''),
    h('p', { 'data-testid': 'seconds-left' }, secondsLeft === undefined ? '' : String(secondsLeft)),
    h('p', { 'data-testid': 'error' }, problem),
    h('button', { 'data-testid': 'log-out', onClick: () => void end().catch(() => undefined) }, 'Log out'),
    h('button', { 'data-testid': 'start', onClick: start }, 'Start again'),
  );
}

const root = createRoot(document.getElementById('root')!);
window.hook = {
  mount: () => root.render(h(StrictMode, null, h(Avatar))),
  unmount: () => root.render(h(StrictMode, null, null)),
  effectRuns: () => effectRuns,
  expiringSoonCalls: () => [...expiringSoonCalls],
  setEnabled(value) {
    enabled = value;
    window.hook.mount();
  },
};
window.hook.mount();
