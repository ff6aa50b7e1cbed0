/**
 * Secrets that guard different doors, in the order the problems name them. Each one equal to
 * another would open both: a scraper's METRICS_TOKEN would be an admin's, and an agent holding
 * EXTERNAL_ENGINE_SIGNING_KEY could sign user tokens when it equals AUTH_JWT_SECRET.
 */
const SEPARATE_SECRETS = [
  'ADMIN_TOKEN',
  'METRICS_TOKEN',
  'AUTH_JWT_SECRET',
  'EXTERNAL_ENGINE_SIGNING_KEY',
] as const;

/** Adds a problem for every pair of equal secrets, naming the variables and never their values. */
export function checkDistinctSecrets(
  raw: Partial<Record<(typeof SEPARATE_SECRETS)[number], string>>,
  problems: string[],
): void {
  SEPARATE_SECRETS.forEach((name, i) => {
    const value = raw[name];
    if (value === undefined) return;
    for (const earlier of SEPARATE_SECRETS.slice(0, i)) {
      if (raw[earlier] === value) problems.push(`${name}: must differ from ${earlier}`);
    }
  });
}
