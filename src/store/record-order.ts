import type { SessionRecord } from './ports';

/** Oldest first by createdAt, then by sessionId, so that ties break the same way in every store. */
export function oldestFirst(a: SessionRecord, b: SessionRecord): number {
  return a.createdAt - b.createdAt || (a.sessionId < b.sessionId ? -1 : a.sessionId > b.sessionId ? 1 : 0);
}

export function newestFirst(a: SessionRecord, b: SessionRecord): number {
  return oldestFirst(b, a);
}

/**
 * The order in which replace-oldest picks its victims: sessions already being ended first (their
 * slot is going anyway), then the oldest.
 */
export function endingFirst(isEnding: (record: SessionRecord) => boolean) {
  return (a: SessionRecord, b: SessionRecord): number =>
    Number(isEnding(b)) - Number(isEnding(a)) || oldestFirst(a, b);
}
