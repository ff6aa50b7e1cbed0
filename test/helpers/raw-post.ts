import { once } from 'node:events';
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  body: unknown;
}

/**
 * A POST with node:http, for what supertest cannot say: a body sent in chunks without
 * Content-Length, bytes sent as they are (supertest serialises a Buffer as JSON when the type
 * says JSON), or no Content-Type at all.
 */
export async function rawPost(
  port: number,
  headers: Record<string, string>,
  chunks: Buffer[],
): Promise<RawResponse> {
  const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/session', headers });
  const answered = once(req, 'response');
  // The server may answer (413) and close before the whole body is written.
  req.on('error', () => undefined);
  for (const chunk of chunks) req.write(chunk);
  req.end();
  const [res] = (await answered) as [IncomingMessage];
  let text = '';
  res.setEncoding('utf8');
  for await (const piece of res) text += piece;
  const json = /json/.test(res.headers['content-type'] ?? '') ? JSON.parse(text) : undefined;
  return { status: res.statusCode ?? 0, headers: res.headers, text, body: json };
}
