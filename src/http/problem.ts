import type { Response } from 'express';
import { problemCatalog, type AppError } from '../errors';

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  request_id: string;
}

export function problemBody(err: AppError, requestId: string): ProblemBody {
  return {
    type: `/problems/${err.code}`,
    title: problemCatalog[err.code].title,
    status: err.status,
    code: err.code,
    detail: err.detail,
    request_id: requestId,
  };
}

export function sendProblem(res: Response, err: AppError, requestId: string): void {
  if (err.retryAfterSeconds !== undefined)
    res.setHeader('Retry-After', String(Math.max(1, Math.ceil(err.retryAfterSeconds))));
  if (err.code === 'unauthenticated') res.setHeader('WWW-Authenticate', 'Bearer');
  for (const [name, value] of Object.entries(err.headers)) res.setHeader(name, value);
  res.setHeader('Cache-Control', 'no-store');
  res
    .status(err.status)
    .type('application/problem+json')
    .send(JSON.stringify(problemBody(err, requestId)));
}
