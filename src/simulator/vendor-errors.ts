import { STATUS_CODES } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { headerValue, type Reply } from './http-io';
import { randomUUID } from 'node:crypto';
import { randomId } from './ids';

function reason(status: number): string {
  return STATUS_CODES[status] ?? 'Error';
}

export interface OpenAiErrorFields {
  param?: string | null;
  code?: string | null;
}

export function openAiError(status: number, message: string, fields: OpenAiErrorFields = {}): Reply {
  const type = status >= 500 ? 'server_error' : status === 429 ? 'requests' : 'invalid_request_error';
  return {
    status,
    json: { error: { message, type, param: fields.param ?? null, code: fields.code ?? null } },
    headers: { 'x-request-id': randomId('req_', 12) },
  };
}

/** Versions from this date on answer structured JSON errors; older ones may answer plain text. */
const cartesiaStructuredSince = '2026-03-01';

export function cartesiaError(
  req: IncomingMessage,
  status: number,
  errorCode: string,
  message: string,
  title = reason(status),
): Reply {
  const requestId = randomUUID();
  const version = headerValue(req, 'cartesia-version');
  if (version === undefined || version < cartesiaStructuredSince) {
    return { status, text: message, headers: { 'x-request-id': requestId } };
  }
  return {
    status,
    json: { error_code: errorCode, title, message, request_id: requestId },
    headers: { 'x-request-id': requestId },
  };
}

/** FastAPI's HTTPException shape; validation errors use `fastApiValidationError` instead. */
export function avaturnError(status: number, detail: string): Reply {
  return { status, json: { detail } };
}

/** Cartesia's code for a status when nothing more specific applies. */
const cartesiaCode = (status: number) => reason(status).toLowerCase().replace(/\W+/g, '_');
/** Cartesia's documented wording for the codes a fault is likely to ask for. */
const cartesiaWording: Record<string, { title: string; message: string }> = {
  concurrency_limited: {
    title: 'Too many concurrent requests',
    message: "You have exceeded your plan's concurrency limit.",
  },
};

/** The answer a vendor gives for a status the simulator was told to return, with its error code. */
export const genericError = {
  openai: (_req: IncomingMessage, status: number, code?: string, message = reason(status)) =>
    openAiError(status, message, { code: code ?? null }),
  cartesia: (req: IncomingMessage, status: number, code?: string, message?: string) => {
    const wording = code === undefined ? undefined : cartesiaWording[code];
    const text = message ?? wording?.message ?? reason(status);
    return cartesiaError(req, status, code ?? cartesiaCode(status), text, wording?.title);
  },
  avaturn: (_req: IncomingMessage, status: number, _code?: string, message = reason(status)) =>
    avaturnError(status, message),
};
