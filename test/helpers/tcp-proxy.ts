import net from 'node:net';

/** What the relay does to the reply of the next command whose bytes contain `match`. */
export type ReplyFault =
  | { match: string; action: 'delay'; ms: number }
  /** The command reaches the server and runs; the connection dies before its reply gets back. */
  | { match: string; action: 'cut' };

/** A TCP relay to a real server (Redis) that a test can cut and restore, or whose replies it can hold back. */
export interface TcpProxy {
  url: string;
  /** Drops every connection and refuses new ones. */
  cut(): Promise<void>;
  /** Accepts connections again on the same port. */
  restore(): Promise<void>;
  /** Arms a fault for the next matching command (once). */
  faultNext(fault: ReplyFault): void;
  /** How many armed faults have fired. */
  readonly fired: number;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  const faults: ReplyFault[] = [];
  let fired = 0;

  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => socket.destroy());
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    let holdUntil = 0;
    let discard = false;
    const held: Buffer[] = [];
    let releaseTimer: NodeJS.Timeout | undefined;

    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      const index = faults.findIndex((fault) => chunk.includes(fault.match));
      if (index < 0) return;
      const [fault] = faults.splice(index, 1);
      fired += 1;
      if (fault!.action === 'cut') {
        // The reply never gets back; the connection dies once the server surely ran the command.
        discard = true;
        setTimeout(() => {
          client.destroy();
          upstream.destroy();
        }, 20);
      } else {
        holdUntil = Date.now() + fault!.ms;
        clearTimeout(releaseTimer);
        releaseTimer = setTimeout(() => {
          for (const part of held.splice(0)) client.write(part);
        }, fault!.ms);
      }
    });
    upstream.on('data', (chunk: Buffer) => {
      if (discard) return;
      if (Date.now() < holdUntil || held.length > 0) held.push(chunk);
      else client.write(chunk);
    });
  });
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      if (server.listening) server.close(() => resolve());
      else resolve();
    });

  const port = await listen(0);
  return {
    url: `redis://127.0.0.1:${port}`,
    cut: stop,
    restore: async () => {
      await listen(port);
    },
    faultNext(fault) {
      faults.push(fault);
    },
    get fired() {
      return fired;
    },
    close: stop,
  };
}
