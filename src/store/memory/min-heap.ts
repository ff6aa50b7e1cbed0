/**
 * A binary min-heap of (time, key) pairs. Stores use it to find what lapses next without scanning
 * everything: entries are never updated in place, so a popped entry whose key now lapses at another
 * time is stale and the caller skips it.
 */
export class MinHeap<K> {
  private readonly items: { at: number; key: K }[] = [];

  get size(): number {
    return this.items.length;
  }

  push(at: number, key: K): void {
    const items = this.items;
    items.push({ at, key });
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent]!.at <= at) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }

  /** The earliest entry if it is due at `now` or before, removed from the heap. */
  popDue(now: number): { at: number; key: K } | undefined {
    const items = this.items;
    const top = items[0];
    if (top === undefined || top.at > now) return undefined;
    const last = items.pop()!;
    if (items.length > 0) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < items.length && items[left]!.at < items[smallest]!.at) smallest = left;
        if (right < items.length && items[right]!.at < items[smallest]!.at) smallest = right;
        if (smallest === i) break;
        [items[i], items[smallest]] = [items[smallest]!, items[i]!];
        i = smallest;
      }
    }
    return top;
  }

  clear(): void {
    this.items.length = 0;
  }
}
