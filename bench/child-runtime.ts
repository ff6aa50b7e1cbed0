import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import type { ChildMessage, ParentMessage, Usage } from './child-protocol';

/** What a child process serves: an HTTP server, calls the parent may make, and a way to stop. */
export interface ChildService {
  url: string;
  info?: Record<string, unknown>;
  calls?: Record<string, (args: never) => Promise<unknown>>;
  stop(): Promise<void>;
}

const sampleEveryMs = 50;

/** The main thread's CPU time in ms (Linux /proc; 10 ms resolution), or undefined elsewhere. */
function mainThreadCpuMs(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime, fields 14 and 15 of stat(5), in clock ticks of 10 ms.
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

function reply(message: ChildMessage): void {
  process.send?.(message);
}

const errorMessage = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * V8's sampling CPU profiler (what `node --cpu-prof` runs) over a measured window only, so that
 * start-up, warm-up and filling the store stay out of the picture.
 */
function windowProfiler() {
  let session: Session | undefined;
  return {
    async profileStart(): Promise<void> {
      session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    },
    async profileStop({ path }: { path: string }): Promise<void> {
      if (session === undefined) throw new Error('no profile is running');
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      session = undefined;
      await writeFile(path, JSON.stringify(profile));
    },
  };
}

/**
 * The child side of bench/child.ts: starts the service on the parent's word, answers marks with
 * this process's own CPU time and memory, runs calls, and exits when stopped or orphaned.
 */
export function runChild(start: (params: never) => Promise<ChildService>): void {
  let peakRss = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, sampleEveryMs);
  // Where an open loop's tail comes from: a stalled event loop delays every request waiting on it.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const gcPauses = { total: 0, max: 0 };
  /** Where the current window began: after the last mark's own GC, whose entry arrives late. */
  let windowStart = 0;
  const gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.startTime < windowStart) continue;
      gcPauses.total += entry.duration;
      gcPauses.max = Math.max(gcPauses.max, entry.duration);
    }
  });
  gcObserver.observe({ entryTypes: ['gc'] });

  /** Read before a full GC, so that the GC is not counted in the window that just ended. */
  function usage(): Usage {
    const cpu = process.cpuUsage();
    const memory = process.memoryUsage();
    const rss = memory.rss;
    const peakRssBytes = Math.max(peakRss, rss);
    const mainThreadMs = mainThreadCpuMs();
    // The histogram counts the 10 ms resolution itself in every sample.
    const eventLoopDelayMs = {
      p99: Math.max(0, loopDelay.percentile(99) / 1e6 - 10),
      max: Math.max(0, loopDelay.max / 1e6 - 10),
    };
    const gcPausesMs = { ...gcPauses };
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    peakRss = process.memoryUsage.rss();
    loopDelay.reset();
    Object.assign(gcPauses, { total: 0, max: 0 });
    windowStart = performance.now();
    return {
      cpu,
      cpuAfterMark: process.cpuUsage(),
      mainThreadMs,
      mainThreadAfterMarkMs: mainThreadCpuMs(),
      rssBytes: rss,
      memory,
      peakRssBytes,
      retainedHeapBytes: process.memoryUsage().heapUsed,
      eventLoopDelayMs,
      gcPausesMs,
    };
  }

  process.once('message', (first: ParentMessage) => {
    if (first.type !== 'start') return;
    start(first.params as never).then(
      (service) => {
        const calls: Record<string, (args: never) => Promise<unknown>> = {
          ...windowProfiler(),
          ...service.calls,
        };
        process.on('message', (message: ParentMessage) => {
          if (message.type === 'mark') reply({ type: 'usage', usage: usage() });
          if (message.type === 'call') {
            const call = Object.hasOwn(calls, message.name) ? calls[message.name] : undefined;
            if (call === undefined)
              reply({ type: 'result', id: message.id, error: `no call ${message.name}` });
            else
              call(message.args as never).then(
                (value) => reply({ type: 'result', id: message.id, value }),
                (err: unknown) => reply({ type: 'result', id: message.id, error: errorMessage(err) }),
              );
          }
          if (message.type === 'stop') {
            service.stop().then(
              () => {
                clearInterval(sampler);
                loopDelay.disable();
                gcObserver.disconnect();
                reply({ type: 'stopped' });
                process.disconnect?.();
              },
              (err: unknown) => {
                reply({ type: 'failed', message: errorMessage(err) });
                process.exit(1);
              },
            );
          }
        });
        reply({ type: 'ready', url: service.url, info: service.info ?? {} });
      },
      (err: unknown) => {
        reply({ type: 'failed', message: errorMessage(err) });
        process.exit(1);
      },
    );
  });
  // The parent going away must not leave a server behind; the delay lets a CPU profile be written.
  process.on('disconnect', () => {
    clearInterval(sampler);
    loopDelay.disable();
    gcObserver.disconnect();
    setTimeout(() => process.exit(0), 200).unref();
  });
}
