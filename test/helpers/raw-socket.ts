import { connect } from 'node:net';
import { sleep } from './waiting';

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

/**
 * Sends a whole `POST /session` with the body `{}` and hangs up without reading a byte of the
 * answer: `when` milliseconds after sending, or once `when()` resolves.
 */
export async function postAndHangUp(
  port: number,
  bearer: string,
  when: number | (() => Promise<unknown>),
  idempotencyKey?: string,
): Promise<void> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  await new Promise((resolve) => socket.once('connect', resolve));
  const body = '{}';
  socket.write(
    [
      'POST /session HTTP/1.1',
      'Host: 127.0.0.1',
      `Authorization: ${bearer}`,
      'Content-Type: application/json',
      `Content-Length: ${body.length}`,
      ...(idempotencyKey === undefined ? [] : [`Idempotency-Key: ${idempotencyKey}`]),
      '',
      body,
    ].join('\r\n'),
  );
  if (typeof when === 'function') await when();
  else if (when > 0) await sleep(when);
  socket.destroy();
}
