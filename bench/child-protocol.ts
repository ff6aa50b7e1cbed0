/** What a measured child process reports about itself at a mark (bench/child-runtime.ts). */
export interface Usage {
  cpu: NodeJS.CpuUsage;
  /** CPU time once the mark's own GC is done: where the next window starts. */
  cpuAfterMark: NodeJS.CpuUsage;
  /** The main thread's own share of `cpu` (ms), where the OS tells it (Linux). */
  mainThreadMs: number | undefined;
  mainThreadAfterMarkMs: number | undefined;
  rssBytes: number;
  /** process.memoryUsage() when the window ended, before the mark's GC: where the RSS goes. */
  memory: NodeJS.MemoryUsage;
  /** Highest sampled RSS since the previous mark. */
  peakRssBytes: number;
  /** V8 heap in use after a full GC: what the process really holds on to. */
  retainedHeapBytes: number;
  /** Since the previous mark: how late the event loop ran a timer due every 10 ms (ms). */
  eventLoopDelayMs: { p99: number; max: number };
  /** Since the previous mark: V8's garbage-collection pauses (ms; the mark's own GC excluded). */
  gcPausesMs: { total: number; max: number };
}

export type ParentMessage =
  | { type: 'start'; params: unknown }
  | { type: 'mark' }
  | { type: 'call'; id: number; name: string; args: unknown }
  | { type: 'stop' };

export type ChildMessage =
  | { type: 'ready'; url: string; info: Record<string, unknown> }
  | { type: 'usage'; usage: Usage }
  | { type: 'result'; id: number; value?: unknown; error?: string }
  | { type: 'stopped' }
  | { type: 'failed'; message: string };
