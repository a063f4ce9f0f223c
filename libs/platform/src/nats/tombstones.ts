/** How many deleted keys a local copy of a bucket remembers: far more than can be deleted while a change travels. */
export const KEPT_TOMBSTONES = 1000;

/**
 * The revisions at which keys of a local copy of a KV bucket were deleted, so that an older PUT arriving after
 * the delete (a local write and the watch crossing) is not taken for news. Only the last `max` deletes are
 * kept: an entry older than that many deletes has long arrived, and a copy that runs for months must not
 * grow by one entry per engine or channel ever removed.
 */
export class Tombstones {
  private readonly at = new Map<string, number>();

  constructor(private readonly max = KEPT_TOMBSTONES) {}

  /** The revision the key was deleted at; 0 when no delete of it is remembered. */
  revisionOf(key: string): number {
    return this.at.get(key) ?? 0;
  }

  set(key: string, revision: number): void {
    // Re-inserted, so the oldest delete is always first in line to be forgotten.
    this.at.delete(key);
    this.at.set(key, revision);
    if (this.at.size > this.max) {
      const oldest = this.at.keys().next().value;
      if (oldest !== undefined) this.at.delete(oldest);
    }
  }

  delete(key: string): void {
    this.at.delete(key);
  }

  get size(): number {
    return this.at.size;
  }
}
