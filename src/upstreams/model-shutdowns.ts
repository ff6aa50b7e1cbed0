/**
 * Shutdowns OpenAI has announced, known without asking it. Source: OpenAI's deprecations page
 * (platform.openai.com/docs/deprecations), announcement of 2026-07-20: the `gpt-realtime` and
 * `gpt-realtime-mini` families with their dated snapshots, and the older `gpt-4o-*realtime*`
 * previews, are removed from the API on 2027-01-20. What `GET /v1/models/{model}` answers in
 * `shutdown_date` wins over this table whenever it names a date.
 */
export interface AnnouncedShutdown {
  /** `YYYY-MM-DD`, the first day the model no longer answers. */
  date: string;
  replacement: string;
}

const full = { date: '2027-01-20', replacement: 'gpt-realtime-2.1' };
const mini = { date: '2027-01-20', replacement: 'gpt-realtime-2.1-mini' };

export const ANNOUNCED_SHUTDOWNS: Readonly<Record<string, AnnouncedShutdown>> = {
  'gpt-realtime': full,
  'gpt-realtime-2025-08-28': full,
  'gpt-realtime-mini': mini,
  'gpt-realtime-mini-2025-10-06': mini,
  'gpt-realtime-mini-2025-12-15': mini,
  'gpt-4o-realtime-preview': full,
  'gpt-4o-realtime-preview-2024-10-01': full,
  'gpt-4o-realtime-preview-2024-12-17': full,
  'gpt-4o-realtime-preview-2025-06-03': full,
  'gpt-4o-mini-realtime-preview': mini,
  'gpt-4o-mini-realtime-preview-2024-12-17': mini,
};

export function announcedShutdown(model: string): AnnouncedShutdown | undefined {
  return Object.hasOwn(ANNOUNCED_SHUTDOWNS, model) ? ANNOUNCED_SHUTDOWNS[model] : undefined;
}
