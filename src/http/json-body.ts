import express, { type RequestHandler } from 'express';
import { AppError } from '../errors';

const jsonTypes = ['application/json', 'application/*+json'];

/** The content codings a body may arrive in; anything else is a 415 naming these. */
export const acceptedContentEncodings = ['gzip', 'deflate', 'br'] as const;

export function hasBody(headers: Record<string, string | string[] | undefined>): boolean {
  if (headers['transfer-encoding'] !== undefined) return true;
  const length = headers['content-length'];
  return length !== undefined && length !== '0';
}

const tooLarge = () => new AppError('payload-too-large', 'The request body is larger than the limit.');

const unsupportedEncoding = () =>
  new AppError('unsupported-media-type', 'The request body encoding or charset is not supported.', {
    headers: { 'Accept-Encoding': acceptedContentEncodings.join(', ') },
  });

function isAccepted(encoding: string | undefined): boolean {
  const coding = (encoding ?? 'identity').trim().toLowerCase();
  return coding === 'identity' || (acceptedContentEncodings as readonly string[]).includes(coding);
}

/**
 * body-parser and raw-body errors carry a `type`; a body that fails to decompress carries only
 * the status 400 body-parser gave it (zlib's own error underneath). Each maps to a contract code.
 */
function fromBodyParser(err: { type?: string; status?: number }): AppError | undefined {
  switch (err.type) {
    case 'entity.too.large':
      return tooLarge();
    case 'entity.parse.failed':
      return new AppError('invalid-request', 'The request body is not a JSON object.');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return unsupportedEncoding();
    default:
      return err.status !== undefined && err.status >= 400 && err.status < 500
        ? new AppError('invalid-request', 'The request body could not be read or decoded.')
        : undefined;
  }
}

/** Runs a body-parser middleware, turning its errors into the contract's codes. */
export function withBodyErrors(parse: RequestHandler): RequestHandler {
  return (req, res, next) => {
    parse(req, res, (err?: unknown) => {
      if (err === undefined || err === null) return next();
      next((typeof err === 'object' && fromBodyParser(err as { type?: string })) || err);
    });
  };
}

/** A declared Content-Length over the limit is answered before any of the body is read. */
export function assertDeclaredLength(
  headers: Record<string, string | string[] | undefined>,
  limitBytes: number,
): void {
  if (Number(headers['content-length']) > limitBytes) throw tooLarge();
}

/**
 * JSON bodies only, size-limited on the wire and after decompression (body-parser counts inflated
 * bytes, so a small gzip that inflates past the limit is a 413 too). A Content-Length over the
 * limit is answered before any of the body is read. An absent body means `{}`.
 */
export function jsonBody(limitBytes: number): RequestHandler[] {
  const parse = express.json({ limit: limitBytes, strict: true, type: jsonTypes });
  const checkDeclaredBody: RequestHandler = (req, _res, next) => {
    if (!hasBody(req.headers)) return next();
    assertDeclaredLength(req.headers, limitBytes);
    if (!req.is(jsonTypes))
      throw new AppError('unsupported-media-type', 'Send the body as application/json.');
    if (!isAccepted(req.headers['content-encoding'])) throw unsupportedEncoding();
    next();
  };
  const defaultEmpty: RequestHandler = (req, _res, next) => {
    if (req.body === undefined) req.body = {};
    next();
  };
  return [checkDeclaredBody, withBodyErrors(parse), defaultEmpty];
}
