import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { AppError, type ErrorCode } from '../errors';
import type { Logger } from '../logger';
import { problemBody } from './problem';

/** Node's parser and timeout errors, mapped as Node's own default answers map them. */
const answers: Record<string, [ErrorCode, string]> = {
  HPE_HEADER_OVERFLOW: ['request-header-fields-too-large', 'The request headers are too large.'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: ['payload-too-large', 'The chunk extensions are too large.'],
  ERR_HTTP_REQUEST_TIMEOUT: ['request-timeout', 'The request did not arrive in time.'],
};

function problemFor(parserCode: string | undefined): AppError {
  const [code, detail] = answers[parserCode ?? ''] ?? ['invalid-request', 'The request is not valid HTTP.'];
  return new AppError(code, detail);
}

/**
 * Answers what Node's HTTP parser rejects (a bad request line or header, headers over the limit,
 * a request that did not arrive in time) as problem+json with an X-Request-Id, instead of Node's
 * bare default, and logs it as a warning: the client's mistake, so no stack and no raw bytes.
 */
export function answerClientError(logger: Logger) {
  return (err: NodeJS.ErrnoException, socket: Socket): void => {
    // A response already under way cannot be replaced without corrupting it (as Node decides too).
    const inFlight = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const problem = problemFor(err.code);
    const inboundId = inFlight?.getHeader('x-request-id');
    const requestId = typeof inboundId === 'string' ? inboundId : randomUUID();
    const body = JSON.stringify(problemBody(problem, requestId));
    const head = [
      `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}`,
      'Content-Type: application/problem+json',
      `Content-Length: ${Buffer.byteLength(body)}`,
      'Cache-Control: no-store',
      'X-Content-Type-Options: nosniff',
      `X-Request-Id: ${requestId}`,
      'Connection: close',
    ];
    socket.end(`${head.join('\r\n')}\r\n\r\n${body}`, () => socket.destroy());
    logger.warn(
      { req: { id: requestId }, res: { statusCode: problem.status }, code: problem.code, parser: err.code },
      'request rejected by the HTTP server',
    );
  };
}
