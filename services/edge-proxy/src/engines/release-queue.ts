import { AcefleetError, ReleaseReply, proxyCallSubject, type ReleaseRequest } from '@acefleet/contracts';
import { requestJson, type Logger } from '@acefleet/platform';
import type { EngineLease, ManagerConnection } from './engine-lease.ts';
import type { LocalLeases } from './local-leases.ts';

/** How long releases deferred while the manager was unreachable wait before the next try. */
const RELEASE_RETRY_MS = 3000;

/**
 * Claims given back to the manager, in order, one at a time. While the manager cannot be reached they wait
 * (and are tried again every RELEASE_RETRY_MS, and at once when NATS is back); a refusal is logged. Never
 * rejects: a claim it cannot give back expires at the manager.
 */
export class ReleaseQueue {
  private readonly pending: ReleaseRequest[] = [];
  private sending: Promise<void> | undefined;
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly manager: ManagerConnection,
    private readonly leases: LocalLeases,
    private readonly opts: { proxyId: string; requestTimeoutMs: number },
    private readonly log: Logger,
  ) {}

  /** Give the claim back (a local lease the manager may have adopted too). */
  release(lease: EngineLease): Promise<void> {
    if (this.leases.releaseHere(lease.claimId)) return Promise.resolve();
    this.pending.push({ engineId: lease.engineId, claimId: lease.claimId });
    return this.send();
  }

  /** Every claim of the proxy instance that ran here before this one (killed, its claims blocking engines). */
  releaseAllOf(proxyId: string): Promise<void> {
    this.log.info({ predecessor: proxyId }, "releasing the previous instance's claims");
    this.pending.push({ proxyId, all: true });
    return this.send();
  }

  /** Send what waits (NATS is back). */
  send(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.sending ??= this.flush().finally(() => (this.sending = undefined));
    return this.sending;
  }

  /** No more retries (the proxy stops); what is pending expires at the manager. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
  }

  private async flush(): Promise<void> {
    for (let nc = this.manager(); this.pending.length > 0 && nc && !this.stopped; nc = this.manager()) {
      const next = this.pending[0]!;
      try {
        const subject = proxyCallSubject('release', this.opts.proxyId);
        const reply = await requestJson(nc, subject, next, ReleaseReply, this.opts.requestTimeoutMs);
        if ('all' in next)
          this.log.info({ ...next, count: reply.count }, "previous instance's claims released");
      } catch (err) {
        if (err instanceof AcefleetError && err.code === 'control_plane_unavailable') {
          this.log.warn(next, 'release deferred: engine manager unavailable');
          this.retry ??= setTimeout(() => {
            this.retry = undefined;
            void this.send();
          }, RELEASE_RETRY_MS).unref(); // stop() cancels it; unref'd so it never holds a stopping process
          return;
        }
        this.log.warn({ err, ...next }, 'release refused');
      }
      this.pending.shift();
    }
  }
}
