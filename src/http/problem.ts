import type { Response } from 'express';
import { problemCatalog, type AppError } from '../errors';
import type { ProblemBody } from './schemas-responses';

export type { ProblemBody };

export function problemBody(err: AppError, requestId: string): ProblemBody {
  return {
    type: `/problems/${err.code}`,
    title: problemCatalog[err.code].title,
    status: err.status,
    code: err.code,
    detail: err.detail,
    request_id: requestId,
    ...err.extensions,
  };
}

export function sendProblem(res: Response, err: AppError, requestId: string): void {
  if (err.retryAfterSeconds !== undefined)
    res.setHeader('Retry-After', String(Math.max(1, Math.ceil(err.retryAfterSeconds))));
  for (const [name, value] of Object.entries(err.headers)) res.setHeader(name, value);
  res.setHeader('Cache-Control', 'no-store');
  res
    .status(err.status)
    .type('application/problem+json')
    .send(JSON.stringify(problemBody(err, requestId)));
}
