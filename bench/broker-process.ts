import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { loadConfig } from '../src/config/load-config';
import { startServer, type RunningServer } from '../src/server';
import { createRedisStore } from '../src/sessions/redis-store';
import type { ChildMessage, ParentMessage, Usage } from './broker-child';

/*
 * The broker under test, alone in this process so that its CPU time and memory are its own.
 * Driven by bench/broker-child.ts over IPC.
 */

const sampleEveryMs = 50;
let peakRssSinceMark = process.memoryUsage.rss();
const sampler = setInterval(() => {
  peakRssSinceMark = Math.max(peakRssSinceMark, process.memoryUsage.rss());
}, sampleEveryMs);

function reply(message: ChildMessage): void {
  process.send?.(message);
}

/** Read before a full GC, so that the GC is not counted in the window that just ended. */
function usage(): Usage {
  const cpu = process.cpuUsage();
  const rss = process.memoryUsage.rss();
  const peakRssBytes = Math.max(peakRssSinceMark, rss);
  const lifetimePeakRssBytes = process.resourceUsage().maxRSS * 1024;
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  peakRssSinceMark = process.memoryUsage.rss();
  return {
    cpu,
    rssBytes: rss,
    peakRssBytes,
    lifetimePeakRssBytes,
    retainedHeapBytes: gc ? process.memoryUsage().heapUsed : undefined,
    cpuAfterMark: process.cpuUsage(),
  };
}

async function deleteKeys(url: string, prefix: string): Promise<number> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  let deleted = 0;
  try {
    await client.connect();
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) deleted += await client.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
  return deleted;
}

async function start(
  env: Record<string, string>,
  profilesJson: string,
  redisUrl: string | undefined,
): Promise<void> {
  const config = loadConfig(env, { readFile: () => profilesJson });
  const keyPrefix = `avaturn-broker-bench:${randomUUID()}:`;
  const store = redisUrl === undefined ? undefined : createRedisStore({ url: redisUrl, keyPrefix });
  const running: RunningServer = await startServer(config, store === undefined ? {} : { store });

  process.on('message', (message: ParentMessage) => {
    if (message.type === 'mark') reply({ type: 'usage', usage: usage() });
    if (message.type === 'stop') {
      void (async () => {
        await running.shutdown();
        const keysDeleted = redisUrl === undefined ? 0 : await deleteKeys(redisUrl, keyPrefix);
        clearInterval(sampler);
        reply({ type: 'stopped', keysDeleted });
        process.disconnect?.();
      })().catch((err: unknown) => {
        reply({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
        process.exit(1);
      });
    }
  });
  reply({
    type: 'ready',
    url: running.url,
    store: running.broker.store.kind,
    ...(store ? { keyPrefix } : {}),
  });
}

process.once('message', (message: ParentMessage) => {
  if (message.type !== 'start') return;
  start(message.env, message.profilesJson, message.redisUrl).catch((err: unknown) => {
    reply({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  });
});
// The parent going away must not leave a broker behind.
process.on('disconnect', () => {
  clearInterval(sampler);
  setTimeout(() => process.exit(0), 200).unref();
});
