/** What a manager not holding its host's lease sees in the bucket: nothing (or a deleted key), or a lease. */
export type LeaseView = { vacant: true } | { vacant: false; revision: number; holder: string; ttlMs: number };

export type LeaseMove =
  | { kind: 'create' }
  | { kind: 'take_over'; revision: number; why: 'expired' | 'own_from_before' | 'still_ours' }
  | { kind: 'wait' };

/**
 * How a lease of `ttlMs` is kept, so that a host whose leader died has a new one within `ttlMs` (not counting
 * the reconcile that follows): the leader renews every TTL/5 and leads only until 0.6 TTL after it sent its
 * last accepted renewal; a standby polls every TTL/10 and takes over once a revision stayed unchanged for
 * 0.7 TTL on its clock. Death to takeover is then at most 0.7 TTL + two polls = 0.9 TTL, and a leader cut off
 * (or paused) has stopped acting 0.1 TTL before any standby may start.
 */
export function leaseTimes(ttlMs: number): {
  renewEveryMs: number;
  validForMs: number;
  takeoverAfterMs: number;
  pollEveryMs: number;
} {
  return {
    renewEveryMs: ttlMs / 5,
    validForMs: ttlMs * 0.6,
    takeoverAfterMs: ttlMs * 0.7,
    pollEveryMs: Math.max(10, Math.floor(ttlMs / 10)),
  };
}

/**
 * When a standby may take its host's lease: the pure decision, on the standby's own monotonic clock. A lease
 * has expired when its revision has not changed for the holder's takeover time (leaseTimes of its `ttlMs`)
 * since this standby first saw that revision; the holder's `renewedAt` is never compared with our clock, so clock skew between hosts cannot
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
    if (nowMs - this.seen.sinceMs >= leaseTimes(view.ttlMs).takeoverAfterMs) {
      return { kind: 'take_over', revision: view.revision, why: 'expired' };
    }
    return { kind: 'wait' };
  }

  /** We wrote the lease at `revision` (we lead). */
  wrote(revision: number): void {
    this.ownRevision = revision;
  }

  /** Forget what was seen (after stepping down): the next lease must again stay unchanged for a full takeover time. */
  reset(): void {
    this.seen = undefined;
    this.firstLook = false;
  }
}
