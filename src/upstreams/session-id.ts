/** The only session ids the broker accepts, stores or puts in an upstream URL. */
export const sessionIdPattern = /^[A-Za-z0-9_-]{1,128}$/;

export function isSessionId(value: unknown): value is string {
  return typeof value === 'string' && sessionIdPattern.test(value);
}
