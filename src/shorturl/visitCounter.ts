import type { VisitBatch } from './shorturl.store.js';

/**
 * Visits are counted in memory and written in batches, so a redirect never waits for a write.
 * A batch is taken out of `pending` before it is written and put back if the write fails (the
 * write is one transaction: all of it or none), so no visit is lost or counted twice.
 */
export class VisitCounter {
  private pending: VisitBatch = new Map();
  private readonly writing = new Set<Promise<boolean>>();

  constructor(
    private readonly write: (batch: VisitBatch) => Promise<void>,
    private readonly onError: (err: unknown) => void,
    /** Flush at once when this many links have unwritten visits (bounds memory under a flood). */
    private readonly maxPending = 10_000,
  ) {}

  record(code: string, at: number): void {
    const v = this.pending.get(code);
    if (v) {
      v.count++;
      if (at > v.lastAt) v.lastAt = at;
    } else {
      this.pending.set(code, { count: 1, lastAt: at });
      if (this.pending.size >= this.maxPending) void this.flush();
    }
  }

  /** Visits of one link not yet written. */
  pendingFor(code: string): { count: number; lastAt: number } | undefined {
    return this.pending.get(code);
  }

  /** A deleted link: its unwritten visits are dropped, so a link made again under its slug starts at 0. */
  forget(code: string): void {
    this.pending.delete(code);
  }

  /**
   * Write every pending visit; false (and the visits kept for the next try) if the write failed.
   * Visits recorded while a write is under way go to the next batch.
   */
  flush(): Promise<boolean> {
    const p = this.writeBatch();
    this.writing.add(p);
    void p.finally(() => this.writing.delete(p));
    return p;
  }

  /** On shutdown: wait for the writes under way (a failed one puts its visits back), then write the rest. */
  async drain(): Promise<boolean> {
    await Promise.all([...this.writing]);
    return this.flush();
  }

  private async writeBatch(): Promise<boolean> {
    if (this.pending.size === 0) return true;
    const batch = this.pending;
    this.pending = new Map();
    try {
      await this.write(batch);
      return true;
    } catch (err) {
      for (const [code, v] of batch) {
        const now = this.pending.get(code);
        if (now) {
          now.count += v.count;
          now.lastAt = Math.max(now.lastAt, v.lastAt);
        } else this.pending.set(code, v);
      }
      this.onError(err);
      return false;
    }
  }
}
