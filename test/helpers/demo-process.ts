import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { repoRoot } from './broker-process';

export interface DemoProcess {
  /** npm itself: what a developer's terminal (or a process manager) signals. */
  npm: ChildProcess;
  banner: string;
  /** The processes below npm once the banner was out (shell, node, esbuild). */
  processes: number[];
  urls: { page: string; broker: string; idp: string; simulator: string; ledger: string };
  exited: Promise<number | null>;
}

const urlAfter = (banner: string, label: string): string => {
  const match = new RegExp(`^  ${label}\\s+(http://\\S+)`, 'm').exec(banner);
  if (match === null) throw new Error(`no ${label} in the banner:\n${banner}`);
  return match[1]!;
};

/** `npm run demo` as a developer runs it, resolved once its banner is out. */
export function startDemoProcess(env: Record<string, string>): Promise<DemoProcess> {
  const npm = spawn('npm', ['run', 'demo'], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((done) => npm.once('exit', (code) => done(code)));
  return new Promise((ready, fail) => {
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      if (!output.includes('Press Ctrl-C to stop.')) return;
      npm.stdout!.off('data', read);
      ready({
        npm,
        banner: output,
        processes: descendantsOf(npm.pid!),
        urls: {
          page: urlAfter(output, 'Example page'),
          broker: urlAfter(output, 'Broker'),
          idp: urlAfter(output, 'Demo IdP'),
          simulator: urlAfter(output, 'Simulator'),
          ledger: `${urlAfter(output, 'Simulator')}/_sim/ledger`,
        },
        exited,
      });
    };
    npm.stdout!.on('data', read);
    npm.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    void exited.then((code) => fail(new Error(`npm run demo exited with ${code}:\n${output}`)));
  });
}

/** Every process below `pid`, from /proc (Linux). */
export function descendantsOf(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command name is in parentheses and may hold spaces: the parent pid follows the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(Number(entry), ppid);
    } catch {
      // The process ended while we looked.
    }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const current = queue.shift()!;
    for (const [child, parent] of parents) {
      if (parent === current) {
        found.push(child);
        queue.push(child);
      }
    }
  }
  return found;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether something accepts connections on the URL's port. */
export function isListening(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
