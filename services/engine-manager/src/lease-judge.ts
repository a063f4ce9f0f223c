/** What a manager not holding its host's lease sees in the bucket: nothing (or a deleted key), or a lease. */
export type LeaseView = { vacant: true } | { vacant: false; revision: number; holder: string; ttlMs: number };

export type LeaseMove =
  | { kind: 'create' }
  | { kind: 'take_over'; revision: number; why: 'expired' | 'own_from_before' | 'still_ours' }
  | { kind: 'wait' };

/**
 * When a standby may take its host's lease: the pure decision, on the standby's own monotonic clock. A lease
 * has expired when its revision has not changed for the holder's `ttlMs` since this standby first saw that
 * revision; the holder's `renewedAt` is never compared with our clock, so clock skew between hosts cannot
 * make a live leader look dead. A lease held under our own instance id is ours from before a restart and is
 * taken back at once, but only on the first look (a second process started with the same id would otherwise
 * take it back and forth). A lease still at the revision we last wrote is taken back at once too: nobody
 * wrote it since, and the compare-and-set on that revision lets only one of any contenders win.
 */
export class LeaseJudge {
  private seen: { revision: number; sinceMs: number } | undefined;
  private firstLook = true;
  private ownRevision: number | undefined;

  constructor(private readonly self: string) {}

  decide(view: LeaseView, nowMs: number): LeaseMove {
    const firstLook = this.firstLook;
    this.firstLook = false;
    if (view.vacant) {
      this.seen = undefined;
      return { kind: 'create' };
    }
    if (view.revision === this.ownRevision) {
      return { kind: 'take_over', revision: view.revision, why: 'still_ours' };
    }
    if (firstLook && view.holder === this.self) {
      return { kind: 'take_over', revision: view.revision, why: 'own_from_before' };
    }
    if (this.seen?.revision !== view.revision) {
      this.seen = { revision: view.revision, sinceMs: nowMs };
      return { kind: 'wait' };
    }
    if (nowMs - this.seen.sinceMs >= view.ttlMs) {
      return { kind: 'take_over', revision: view.revision, why: 'expired' };
    }
    return { kind: 'wait' };
  }

  /** We wrote the lease at `revision` (we lead). */
  wrote(revision: number): void {
    this.ownRevision = revision;
  }

  /** Forget what was seen (after stepping down): the next lease must again stay unchanged for a full TTL. */
  reset(): void {
    this.seen = undefined;
    this.firstLook = false;
  }
}
