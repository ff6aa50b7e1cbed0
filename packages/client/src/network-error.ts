import { BrokerError } from './broker-error';

const loopback = /^(localhost|.*\.localhost|127(\.\d{1,3}){3}|\[::1\]|::1)$/i;

/**
 * A page on a developer's machine whose cross-origin fetch fails with a TypeError ("Failed to
 * fetch") is almost always refused by CORS, which the browser hides from scripts on purpose:
 * there the message names the broker's URL and the setting to change. Elsewhere it stays the
 * sentence meant for a user.
 */
function developmentHint(cause: unknown, baseUrl: string): string | undefined {
  if (!(cause instanceof TypeError) || typeof location === 'undefined') return undefined;
  if (!loopback.test(location.hostname)) return undefined;
  let broker: URL;
  try {
    broker = new URL(baseUrl, location.href);
  } catch {
    return undefined;
  }
  if (broker.origin === location.origin) return undefined;
  return (
    `The broker at ${broker.origin} could not be reached from this page (${location.origin}). ` +
    `If it is running, it most likely refused this origin (CORS): add ${location.origin} to the ` +
    `broker's CORS_ORIGINS, or with npm run demo start it with DEMO_CORS_ORIGINS=${location.origin}. ` +
    '(Shown on a local development page only.)'
  );
}

/** No answer arrived: offline, DNS, refused by CORS, aborted. */
export function networkError(cause: unknown, baseUrl: string): BrokerError {
  const message = developmentHint(cause, baseUrl);
  return new BrokerError(
    { status: 0, code: 'network-error', ...(message === undefined ? {} : { message }) },
    { cause },
  );
}
