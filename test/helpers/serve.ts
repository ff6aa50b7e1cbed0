import { createServer, Server, type RequestListener } from 'node:http';
import type { AddressInfo, Server as NetServer } from 'node:net';

export interface Listening<S extends NetServer = Server> {
  server: S;
  port: number;
  /** `http://127.0.0.1:<port>`, without a trailing slash. */
  url: string;
  /** Drops every open connection and stops listening. */
  close(): Promise<void>;
}

/**
 * Listens on a free loopback port. A request handler (an Express app is one, so is the broker's)
 * gets a plain HTTP server; a server built elsewhere (the broker's own, with its timeouts) listens
 * as it is.
 */
export async function listenOn(handler: RequestListener): Promise<Listening>;
export async function listenOn<S extends NetServer>(server: S): Promise<Listening<S>>;
export async function listenOn(target: RequestListener | NetServer): Promise<Listening<NetServer>> {
  const server = typeof target === 'function' ? createServer(target) : target;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    async close() {
      if (server instanceof Server) server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
