import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The preferred port when nothing listens on it, else 0 (any free port); 0 stays 0. */
export async function choosePort(preferred: number, host: string): Promise<number> {
  if (preferred === 0) return 0;
  const probe = createServer();
  const free = await new Promise<boolean>((resolve) => {
    probe.once('error', () => resolve(false));
    probe.listen(preferred, host, () => resolve(true));
  });
  if (free) await new Promise((resolve) => probe.close(resolve));
  return free ? preferred : 0;
}

export interface Listening {
  server: Server;
  /** `http://host:port`, no trailing slash. */
  url: string;
  close(): Promise<void>;
}

export async function listen(handler: RequestListener, port: number, host: string): Promise<Listening> {
  const server = createServer(handler);
  const chosen = await choosePort(port, host);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(chosen, host, () => resolve());
  });
  const { port: actual } = server.address() as AddressInfo;
  return {
    server,
    url: `http://${host}:${actual}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        // A browser keeps idle keep-alive sockets open; the demo should not wait for them.
        server.closeAllConnections();
      }),
  };
}
