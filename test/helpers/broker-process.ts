import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

/** The repository, and the tsx that runs its TypeScript entry points as they are. */
export const repoRoot = resolve(__dirname, '../..');
export const tsxBin = resolve(repoRoot, 'node_modules/.bin/tsx');

export interface BrokerProcess {
  child: ChildProcess;
  url: string;
  exited: Promise<{ code: number | null; at: number }>;
  stderr: () => string;
}

/** The real server (src/server.ts) in a child process, as `npm start` runs it, on a free port. */
export function startBrokerProcess(env: Record<string, string>): Promise<BrokerProcess> {
  const child = spawn(tsxBin, ['src/server.ts'], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; at: number }>((done) =>
    child.on('exit', (code) => done({ code, at: Date.now() })),
  );
  return new Promise((ready, fail) => {
    child.stdout!.on('data', (chunk) => {
      stdout += chunk;
      const match = /"url":"([^"]+)"/.exec(stdout);
      if (match) ready({ child, url: match[1]!, exited, stderr: () => stderr });
    });
    void exited.then(({ code }) => fail(new Error(`broker exited early with ${code}: ${stderr}`)));
  });
}

/**
 * Runs one of the repository's TypeScript entry points until its standard output holds `marker`,
 * then stops it (SIGTERM); what it printed by then. Rejects if it exits first.
 */
export function outputUntil(
  entry: string,
  marker: string,
  options: { cwd?: string; env: Record<string, string | undefined> },
): Promise<string> {
  const child = spawn(tsxBin, [resolve(repoRoot, entry)], {
    cwd: options.cwd ?? repoRoot,
    env: { PATH: process.env.PATH, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  return new Promise<string>((done, fail) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!stdout.includes(marker)) return;
      child.kill('SIGTERM');
      done(stdout);
    });
    child.once('exit', (code) => fail(new Error(`${entry} exited with ${code} before printing ${marker}`)));
  });
}
