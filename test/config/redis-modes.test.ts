import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../src/config/load-config';
import { messageOf, minimal, problemsOf, readFrom } from './config-fixtures';

const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const load = (env: Record<string, string>, files: Record<string, string> = {}) =>
  loadConfig({ ...minimal, ...env }, { readFile: (path) => readFrom(files, path) });

describe('loadConfig: how to reach Redis', () => {
  describe('a Cluster', () => {
    it('reads the seeds, with the scheme and credentials of REDIS_URL', () => {
      const config = load({
        REDIS_CLUSTER_NODES: 'redis-0.redis:6379, 10.0.0.7:7000,[fd00::1]:6380',
        REDIS_URL: 'rediss://broker:pw@redis-0.redis:6379',
      });
      expect(config.redis).toEqual({
        mode: 'cluster',
        nodes: [
          { host: 'redis-0.redis', port: 6379 },
          { host: '10.0.0.7', port: 7000 },
          { host: 'fd00::1', port: 6380 },
        ],
        url: 'rediss://broker:pw@redis-0.redis:6379',
      });
    });

    it('needs no REDIS_URL for a plain Cluster without a password', () => {
      expect(load({ REDIS_CLUSTER_NODES: '127.0.0.1:7000' }).redis).toEqual({
        mode: 'cluster',
        nodes: [{ host: '127.0.0.1', port: 7000 }],
      });
    });

    it.each([
      'redis-0',
      'redis-0:',
      ':6379',
      'redis-0:0',
      'redis-0:65536',
      'fd00::1:6379',
      'a b:6379',
      'x:1,',
    ])('refuses the malformed seed list %j, without echoing it', (value) => {
      const problems = problemsOf({ ...minimal, REDIS_CLUSTER_NODES: value });
      expect(problems).toEqual([
        expect.stringMatching(/^REDIS_CLUSTER_NODES: entry \d must be a seed address as host:port/),
      ]);
      expect(problems.join('\n')).not.toContain(value);
    });

    it('refuses a database other than 0 in REDIS_URL', () => {
      expect(
        problemsOf({ ...minimal, REDIS_CLUSTER_NODES: '127.0.0.1:7000', REDIS_URL: 'redis://:pw@x:6379/2' }),
      ).toEqual(['REDIS_URL: a Cluster has only database 0; leave the path out']);
    });
  });

  describe('Sentinel', () => {
    it('reads the Sentinels and the master name, with the credentials and database of REDIS_URL', () => {
      const config = load({
        REDIS_SENTINELS: 'sentinel-a:26379,sentinel-b:26379,sentinel-c:26379',
        REDIS_SENTINEL_MASTER: 'mymaster',
        REDIS_URL: 'redis://broker:pw@mymaster/3',
      });
      expect(config.redis).toEqual({
        mode: 'sentinel',
        sentinels: [
          { host: 'sentinel-a', port: 26379 },
          { host: 'sentinel-b', port: 26379 },
          { host: 'sentinel-c', port: 26379 },
        ],
        masterName: 'mymaster',
        url: 'redis://broker:pw@mymaster/3',
      });
    });

    it('needs the master name with the Sentinels, and the Sentinels with the master name', () => {
      expect(problemsOf({ ...minimal, REDIS_SENTINELS: 's:26379' })).toEqual([
        'REDIS_SENTINEL_MASTER: is required with REDIS_SENTINELS',
      ]);
      expect(problemsOf({ ...minimal, REDIS_SENTINEL_MASTER: 'mymaster' })).toEqual([
        'REDIS_SENTINELS: is required with REDIS_SENTINEL_MASTER',
      ]);
    });

    it('refuses a Cluster and Sentinel together', () => {
      expect(
        problemsOf({
          ...minimal,
          REDIS_CLUSTER_NODES: '127.0.0.1:7000',
          REDIS_SENTINELS: 's:26379',
          REDIS_SENTINEL_MASTER: 'mymaster',
        }),
      ).toEqual(['REDIS_CLUSTER_NODES, REDIS_SENTINELS: set only one of them (a Cluster or Sentinel)']);
    });
  });

  describe('a private CA', () => {
    it('reads the PEM of REDIS_TLS_CA_FILE into the connection', () => {
      const config = load(
        { REDIS_URL: 'rediss://broker:pw@redis.internal:6380', REDIS_TLS_CA_FILE: '/etc/redis-ca.pem' },
        { '/etc/redis-ca.pem': pem },
      );
      expect(config.redis).toEqual({
        mode: 'standalone',
        url: 'rediss://broker:pw@redis.internal:6380',
        ca: pem,
      });
    });

    it('is a start-up problem when the file cannot be read or holds no certificate, never quoting it', () => {
      expect(
        problemsOf({ ...minimal, REDIS_URL: 'rediss://redis.internal', REDIS_TLS_CA_FILE: '/missing.pem' }),
      ).toEqual(['REDIS_TLS_CA_FILE: cannot be read (ENOENT): /missing.pem']);
      const message = messageOf(
        { ...minimal, REDIS_URL: 'rediss://redis.internal', REDIS_TLS_CA_FILE: '/key.pem' },
        { '/key.pem': 'PRIVATE-KEY-MATERIAL' },
      );
      expect(message).toContain('REDIS_TLS_CA_FILE: holds no PEM certificate');
      expect(message).not.toContain('PRIVATE-KEY-MATERIAL');
    });

    it('needs TLS: a CA without rediss:// is refused rather than silently unused', () => {
      expect(
        problemsOf(
          { ...minimal, REDIS_URL: 'redis://redis.internal', REDIS_TLS_CA_FILE: '/ca.pem' },
          { '/ca.pem': pem },
        ),
      ).toEqual(['REDIS_TLS_CA_FILE: needs REDIS_URL with the rediss:// scheme (TLS)']);
    });
  });

  it('lists every Redis problem with the others in the one message', () => {
    const problems = problemsOf({
      AUTH_JWT_SECRET: minimal.AUTH_JWT_SECRET,
      OPENAI_API_KEY: minimal.OPENAI_API_KEY,
      REDIS_SENTINELS: 'nope',
      REDIS_TLS_CA_FILE: '/missing.pem',
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        'AVATURN_API_KEY: is required',
        expect.stringMatching(/^REDIS_SENTINELS: entry 1 must be a Sentinel address/),
        'REDIS_SENTINEL_MASTER: is required with REDIS_SENTINELS',
        'REDIS_TLS_CA_FILE: needs REDIS_URL with the rediss:// scheme (TLS)',
        'REDIS_TLS_CA_FILE: cannot be read (ENOENT): /missing.pem',
      ]),
    );
    expect(problems).toHaveLength(5);
  });
});
