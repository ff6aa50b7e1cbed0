import express, { type RequestHandler } from 'express';
import { AppError } from '../errors';

function hasBody(headers: Record<string, string | string[] | undefined>): boolean {
  if (headers['transfer-encoding'] !== undefined) return true;
  const length = headers['content-length'];
  return length !== undefined && length !== '0';
}

/**
 * JSON bodies only, size-limited after decompression (body-parser counts inflated bytes, so a
 * small gzip that inflates past the limit is a 413 too). An absent body means `{}`.
 */
export function jsonBody(limitBytes: number): RequestHandler[] {
  const parse = express.json({
    limit: limitBytes,
    strict: true,
    type: ['application/json', 'application/*+json'],
  });
  const requireJson: RequestHandler = (req, _res, next) => {
    if (hasBody(req.headers) && !req.is(['application/json', 'application/*+json'])) {
      throw new AppError('unsupported-media-type', 'Send the body as application/json.');
    }
    next();
  };
  const defaultEmpty: RequestHandler = (req, _res, next) => {
    if (req.body === undefined) req.body = {};
    next();
  };
  return [requireJson, parse, defaultEmpty];
}
