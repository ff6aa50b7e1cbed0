import OpenAI from 'openai';
import type { UpstreamHttp } from './http-client';

export interface OpenAiClientOptions {
  apiKey: string;
  baseUrl: string;
  timeoutMs: number;
  http: UpstreamHttp;
}

/** The SDK over the shared pool, with our timeout and no retries of its own (we decide those). */
export function createOpenAiClient(options: OpenAiClientOptions): OpenAI {
  return new OpenAI({
    apiKey: options.apiKey,
    baseURL: options.baseUrl,
    timeout: options.timeoutMs,
    maxRetries: 0,
    fetch: options.http.fetch,
  });
}
