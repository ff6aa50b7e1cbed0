import { connect } from 'node:net';

export interface SocketAnswer {
  /** Everything the server wrote before it closed the connection. */
  raw: string;
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

function parseAnswer(raw: string): SocketAnswer {
  const split = raw.indexOf('\r\n\r\n');
  const [statusLine = '', ...lines] = raw.slice(0, split).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const text = raw.slice(split + 4);
  const json = /json/.test(headers['content-type'] ?? '');
  return {
    raw,
    status: Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? 0),
    headers,
    body: json ? JSON.parse(text) : text,
  };
}

/**
 * Writes bytes on a fresh TCP connection, as no HTTP client would (a bad request line, a body
 * shorter than its Content-Length), and reads until the server closes the connection.
 */
export async function exchangeOverSocket(port: number, payload: string | Buffer): Promise<SocketAnswer> {
  const socket = connect(port, '127.0.0.1');
  let raw = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => (raw += chunk));
  socket.on('error', () => undefined);
  socket.write(payload);
  await new Promise((resolve) => socket.once('close', resolve));
  return parseAnswer(raw);
}
