import { RenewReply, proxyCallSubject } from '@acefleet/contracts';
import { requestJson, type Logger } from '@acefleet/platform';
import type { EngineLease, ManagerConnection } from './engine-lease.ts';
import type { LocalLeases } from './local-leases.ts';

/**
 * Keeps the proxy's claims alive at the manager and gets the leases it placed by itself adopted: every
 * renewal carries the claims held and offers the local leases (with their content keys), one renewal at a
 * time so that two answers never settle the same offers.
 */
export class ClaimRenewal {
  private renewals: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly manager: ManagerConnection,
    private readonly leases: LocalLeases,
    private readonly opts: { proxyId: string; requestTimeoutMs: number },
    private readonly log: Logger,
  ) {}

  /**
   * Renew `held` and offer the local leases. Returns the manager's claim ids it no longer knows, or
   * undefined when the manager could not be asked (the claims live on until their TTL; the next renewal
   * tries again).
   */
  renew(held: EngineLease[]): Promise<string[] | undefined> {
    const run = this.renewals.then(() => this.renewOnce(held));
    this.renewals = run;
    return run;
  }

  /** The manager answers again: offer it the streams placed here now, rather than at the next renewal. */
  adoptNow(): void {
    if (this.leases.awaitingAdoption) void this.renew([]);
  }

  private async renewOnce(leases: EngineLease[]): Promise<string[] | undefined> {
    const nc = this.manager();
    if (!nc) return undefined;
    const held = leases
      .filter((l) => !this.leases.has(l.claimId))
      .map((l) => ({ engineId: l.engineId, claimId: l.claimId }));
    const offers = this.leases.offer();
    if (held.length + offers.length === 0) return undefined;
    try {
      const body = { proxyId: this.opts.proxyId, claims: [...held, ...offers] };
      const subject = proxyCallSubject('renew', this.opts.proxyId);
      const reply = await requestJson(nc, subject, body, RenewReply, this.opts.requestTimeoutMs);
      const adopted = this.leases.settle(offers, new Set(reply.renewed));
      if (adopted.length > 0) {
        this.log.info(
          { adopted: adopted.length, offered: offers.length },
          'the manager adopted streams placed here',
        );
      }
      const offered = new Set(offers.map((o) => o.claimId));
      return reply.lost.filter((id) => !offered.has(id));
    } catch (err) {
      this.log.warn({ err: err instanceof Error ? err.message : err }, 'claim renewal failed');
      return undefined;
    }
  }
}
