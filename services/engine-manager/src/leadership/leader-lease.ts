import { performance } from 'node:perf_hooks';
import {
  AcefleetError,
  LeaderLease as LeaseRecord,
  parseMessage,
  type ManagerRole,
} from '@acefleet/contracts';
import { encodeJson, type KV, type Logger } from '@acefleet/platform';
import { LeaseJudge, leaseTimes, type LeaseView } from './lease-judge.ts';
import { isConflict } from '../lifecycle/registry.ts';

/** What a manager does while it leads its host; the lease calls these, one at a time, in order. */
export interface Leadership {
  elected(): Promise<void>;
  deposed(): Promise<void>;
}

export interface LeaseOptions {
  hostId: string;
  instanceId: string;
  ttlMs: number;
  /** A monotonic clock in ms (tests pass their own). */
  now?: () => number;
}

type KvEntry = NonNullable<Awaited<ReturnType<KV['get']>>>;

/**
 * The leader lease of one Docker host, for managers sharing a HOST_ID (active/passive). The lease is one key
 * of the leaders bucket, written only by compare-and-set on its revision; leaseTimes says how often it is
 * renewed and read. The leader leads only until `validForMs` after it sent its last successful renewal (its
 * own clock): when a renewal is refused (someone took the lease, e.g. while we were paused) or none lands in
 * time, it steps down at once. A standby takes the lease over once LeaseJudge says it expired.
 */
export class LeaderLease {
  private current: ManagerRole = 'standby';
  private revision = 0;
  private renewSentMs = 0;
  private validUntilMs = 0;
  private readonly judge: LeaseJudge;
  private readonly now: () => number;
  private readonly times: ReturnType<typeof leaseTimes>;
  private duties: Leadership | undefined;
  private transitions: Promise<void> = Promise.resolve();
  private ticking: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly kv: KV,
    private readonly opts: LeaseOptions,
    private readonly log: Logger,
  ) {
    this.judge = new LeaseJudge(opts.instanceId);
    this.now = opts.now ?? (() => performance.now());
    this.times = leaseTimes(opts.ttlMs);
  }

  get role(): ManagerRole {
    return this.current;
  }

  /**
   * Whether the lease this manager last wrote is still good, whatever its role now: no other manager can
   * have taken the host before then (a leader that stood by because NATS went away still owns its engines).
   */
  heldNow(): boolean {
    return this.now() < this.validUntilMs;
  }

  /** Whether this manager leads right now: checked at each call, so a paused leader refuses work on waking. */
  leading(): boolean {
    return this.current === 'leader' && this.now() < this.validUntilMs;
  }

  /** Throws not_leader unless this manager leads its host right now. */
  assertLeading(): void {
    if (!this.leading()) {
      throw new AcefleetError(
        'not_leader',
        `this manager stands by; another leads host ${this.opts.hostId}`,
        {
          retryAfterMs: this.opts.ttlMs,
        },
      );
    }
  }

  /** Contend once (so a lone manager leads when this resolves), then keep renewing or watching. */
  async start(duties: Leadership): Promise<void> {
    this.duties = duties;
    await this.step();
    await this.transitions;
  }

  /** Stop the duties, then hand the lease over at once (delete it) so a standby need not wait out the TTL. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
    const held = this.current === 'leader';
    this.become('standby', 'shutting down');
    await this.transitions;
    if (held) {
      await this.kv
        .delete(this.opts.hostId, { previousSeq: this.revision })
        .then(() => this.log.info({ hostId: this.opts.hostId }, 'leader lease handed over'))
        .catch((err: unknown) =>
          this.log.warn({ err }, 'leader lease not handed over; it expires by itself'),
        );
    }
  }

  /** One tick, then the next; the only place a tick starts, so two never overlap. */
  private step(): Promise<void> {
    this.ticking = this.tick()
      .catch((err: unknown) => this.log.warn({ err, role: this.current }, 'leader lease check failed'))
      .finally(() => {
        if (!this.stopped) this.timer = setTimeout(() => void this.step(), this.times.pollEveryMs);
      });
    return this.ticking;
  }

  private async tick(): Promise<void> {
    if (this.current === 'leader') {
      if (!this.leading()) this.become('standby', 'lease ran out before a renewal landed');
      else if (this.now() - this.renewSentMs >= this.times.renewEveryMs) await this.renew();
      return;
    }
    const move = this.judge.decide(this.viewOf(await this.kv.get(this.opts.hostId)), this.now());
    if (move.kind === 'wait') return;
    const sentMs = this.now();
    const record = this.record();
    try {
      const revision =
        move.kind === 'create'
          ? await this.kv.create(this.opts.hostId, record)
          : await this.kv.update(this.opts.hostId, record, move.revision);
      this.held(revision, sentMs);
      this.become('leader', move.kind === 'create' ? 'lease was free' : `lease ${move.why}`);
    } catch (err) {
      if (!isConflict(err)) throw err;
      this.log.debug({ hostId: this.opts.hostId }, 'another manager took the lease first');
    }
  }

  private async renew(): Promise<void> {
    const sentMs = this.now();
    try {
      const revision = await this.kv.update(this.opts.hostId, this.record(), this.revision);
      if (this.current === 'leader') this.held(revision, sentMs);
    } catch (err) {
      if (isConflict(err)) this.become('standby', 'another manager took the lease');
      // Any other failure (NATS unreachable) is retried next tick; tick() steps down once the TTL is out.
      else this.log.warn({ err }, 'leader lease not renewed');
    }
  }

  private held(revision: number, sentMs: number): void {
    this.revision = revision;
    this.renewSentMs = sentMs;
    this.validUntilMs = sentMs + this.times.validForMs;
    this.judge.wrote(revision);
  }

  /** The one place the role changes: logs it and queues the duties' start or stop. */
  private become(role: ManagerRole, why: string): void {
    if (role === this.current) return;
    this.current = role;
    if (role === 'standby') this.judge.reset();
    this.log.info({ hostId: this.opts.hostId, role, why }, role === 'leader' ? 'leading' : 'standing by');
    const duties = this.duties;
    if (!duties) return;
    this.transitions = this.transitions.then(async () => {
      if (role === 'standby') {
        // Stopping is best effort (NATS may be gone); the lease already refuses work.
        await duties
          .deposed()
          .catch((err: unknown) => this.log.warn({ err }, 'leader duties not all stopped'));
        return;
      }
      // Taking up the duties failed (NATS lost meanwhile): stand by; the lease, still ours, is retaken.
      await duties.elected().catch((err: unknown) => {
        this.log.error({ err }, 'leader duties did not start');
        this.become('standby', 'leader duties did not start');
      });
    });
  }

  private record(): Uint8Array {
    const lease: LeaseRecord = {
      holder: this.opts.instanceId,
      renewedAt: new Date().toISOString(),
      ttlMs: this.opts.ttlMs,
    };
    return encodeJson(lease);
  }

  private viewOf(entry: KvEntry | null): LeaseView {
    if (!entry || entry.operation !== 'PUT') return { vacant: true };
    const { revision } = entry;
    try {
      const lease = parseMessage(LeaseRecord, entry.json(), 'leader lease');
      return { vacant: false, revision, holder: lease.holder, ttlMs: lease.ttlMs };
    } catch (err) {
      // Held by something we cannot read: it still has to stay unchanged for our TTL before we take it.
      this.log.warn({ err, revision }, 'malformed leader lease');
      return { vacant: false, revision, holder: '', ttlMs: this.opts.ttlMs };
    }
  }
}
