import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { RedisConnection } from '../../src/config/types';
import { freePort, spawnRedis, type RedisProcess } from './redis-server';

/**
 * A Redis of the test's own that speaks only TLS, with a certificate from a private CA made for it,
 * the `default` user disabled and one ACL user for the broker (no admin commands) and one for the
 * test.
 */
export interface TlsRedis {
  connection: RedisConnection & { mode: 'standalone' };
  env: Record<string, string>;
  /** The CA certificate (PEM) and the file that holds it. */
  ca: string;
  caFile: string;
  server: RedisProcess;
  close(): Promise<void>;
}

const run = promisify(execFile);
export const brokerUser = { name: 'broker', password: 'broker-pw-7c1e' };
const adminUser = { name: 'test-admin', password: 'admin-pw-93fd' };

/** A CA and a server certificate for 127.0.0.1 signed by it, made with openssl. */
async function makeCertificates(dir: string): Promise<Record<'ca' | 'cert' | 'key', string>> {
  const file = (name: string) => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await run('openssl', [
    'req',
    '-x509',
    ...ec,
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.crt'),
    '-days',
    '1',
    '-subj',
    '/CN=broker-test-ca',
  ]);
  await run('openssl', [
    'req',
    ...ec,
    '-keyout',
    file('server.key'),
    '-out',
    file('server.csr'),
    '-subj',
    '/CN=127.0.0.1',
  ]);
  await writeFile(file('san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    file('server.csr'),
    '-CA',
    file('ca.crt'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-out',
    file('server.crt'),
    '-days',
    '1',
    '-extfile',
    file('san.ext'),
  ]);
  return { ca: file('ca.crt'), cert: file('server.crt'), key: file('server.key') };
}

export async function startTlsRedis(): Promise<TlsRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'broker-tls-'));
  try {
    const files = await makeCertificates(dir);
    const ca = await readFile(files.ca, 'utf8');
    const port = await freePort();
    const server = await spawnRedis(
      [
        '--port',
        '0',
        '--tls-port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--tls-cert-file',
        files.cert,
        '--tls-key-file',
        files.key,
        '--tls-ca-cert-file',
        files.ca,
        '--tls-auth-clients',
        'no',
        '--user',
        brokerUser.name,
        'on',
        `>${brokerUser.password}`,
        '~*',
        '&*',
        '+@all',
        '-@admin',
        '--user',
        adminUser.name,
        'on',
        `>${adminUser.password}`,
        '~*',
        '&*',
        '+@all',
        '--user',
        'default',
        'off',
      ],
      port,
      { tls: { ca }, username: adminUser.name, password: adminUser.password },
    );
    const url = `rediss://${brokerUser.name}:${brokerUser.password}@127.0.0.1:${port}`;
    return {
      connection: { mode: 'standalone', url, ca },
      env: { REDIS_URL: url, REDIS_TLS_CA_FILE: files.ca },
      ca,
      caFile: files.ca,
      server,
      async close() {
        await server.kill();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
