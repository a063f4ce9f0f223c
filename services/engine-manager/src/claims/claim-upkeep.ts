import {
  hostCallSubject,
  proxyNameOf,
  ReleaseReply,
  RenewReply,
  type Claim,
  type ClaimRelease,
  type EngineRecord,
  type ProxyRelease,
  type ReleaseRequest,
  type RenewRequest,
} from '@acefleet/contracts';
import type { Static, TSchema } from '@sinclair/typebox';
import { requestJson, type Logger, type NatsConnection } from '@acefleet/platform';
import type { EngineRegistry } from '../lifecycle/registry.ts';
import { withAdopted, withoutClaims, withRenewed } from './claim-changes.ts';
import type { ProxyRules } from './proxy-rules.ts';

export interface ClaimUpkeepOptions {
  hostId: string;
  claimTtlMs: number;
  /** How long the owning host's manager has to answer a forwarded release or renewal. */
  hostCallTimeoutMs: number;
}

type RenewedClaim = RenewRequest['claims'][number];

/**
 * The claims proxies hold, kept by the manager of each engine's host, the only writer of its records:
 * renewals, adoptions of streams a proxy placed itself, releases. A call naming engines of other hosts is
 * split by host, and each other host's part goes to its manager (`hostCallSubject`) under the calling
 * proxy's name, so that manager too acts only on that proxy's claims.
 */
export class ClaimUpkeep {
  constructor(
    private readonly registry: EngineRegistry,
    private readonly rules: ProxyRules,
    private readonly nc: NatsConnection,
    private readonly opts: ClaimUpkeepOptions,
    private readonly log: Logger,
  ) {}

  /** A release from proxy `caller`: one of its own claims, or every claim of one of its own ids. */
  async release(req: ReleaseRequest, caller: string): Promise<ReleaseReply> {
    if ('all' in req) {
      this.rules.assertActsFor(req.proxyId, caller, 'release every claim');
      const hosts = new Set(this.heldBy(req.proxyId).map((r) => r.hostId));
      hosts.delete(this.opts.hostId);
      const replies = await Promise.all([
        this.releaseProxy(req),
        ...[...hosts].map((host) =>
          this.forward(host, 'release', req, caller, ReleaseReply).then((r) => r ?? { count: 0 }),
        ),
      ]);
      const count = replies.reduce((n, r) => n + r.count, 0);
      return { released: count > 0, count };
    }
    const host = this.hostOf(req.engineId);
    if (host === this.opts.hostId) return this.releaseHere(req, caller);
    return (await this.forward(host, 'release', req, caller, ReleaseReply)) ?? { released: false, count: 0 };
  }

  /** A release for this host's engines only (forwarded here, or this host's part of a proxy's call). */
  releaseHere(req: ReleaseRequest, caller: string): Promise<ReleaseReply> {
    if ('all' in req) {
      this.rules.assertActsFor(req.proxyId, caller, 'release every claim');
      return this.releaseProxy(req);
    }
    if (this.hostOf(req.engineId) !== this.opts.hostId) return Promise.resolve({ released: false, count: 0 });
    return this.dropClaim(req, (c) => proxyNameOf(c.proxyId) === caller);
  }

  /** One claim of this host, if `owned` says it may go (a claim of another proxy stays; the refusal is logged). */
  async dropClaim(req: ClaimRelease, owned: (claim: Claim) => boolean = () => true): Promise<ReleaseReply> {
    const count = await this.dropClaims(req.engineId, (rec) => {
      const claim = rec.claims.find((c) => c.claimId === req.claimId);
      if (claim && !owned(claim)) {
        this.log.warn(
          { engineId: req.engineId, claimId: req.claimId },
          "refused: a release of another proxy's claim",
        );
      }
      return new Set(claim && owned(claim) ? [claim.claimId] : []);
    });
    if (count > 0) this.log.info({ engineId: req.engineId, claimId: req.claimId }, 'released');
    return { released: count > 0, count };
  }

  /** Every claim of a proxy instance on this host's engines (a restarted proxy's predecessor's). */
  private async releaseProxy(req: ProxyRelease): Promise<ReleaseReply> {
    const held = this.heldBy(req.proxyId).filter((r) => r.hostId === this.opts.hostId);
    const counts = await Promise.all(
      held.map((r) =>
        this.dropClaims(
          r.id,
          (rec) => new Set(rec.claims.filter((c) => c.proxyId === req.proxyId).map((c) => c.claimId)),
        ),
      ),
    );
    const count = counts.reduce((a, b) => a + b, 0);
    this.log.info(
      { proxyId: req.proxyId, claims: count, engines: held.length },
      'released every claim of a proxy',
    );
    return { released: count > 0, count };
  }

  /** Drop the claims `pick` names from one engine's record by CAS; how many were dropped. */
  private async dropClaims(
    engineId: string,
    pick: (rec: EngineRecord) => ReadonlySet<string>,
  ): Promise<number> {
    let count = 0;
    await this.registry.mutate(engineId, (rec) => {
      const next = withoutClaims(rec, pick(rec));
      count = next ? rec.claims.length - next.claims.length : 0;
      return next;
    });
    return count;
  }

  /**
   * Renew the claims a proxy holds, and adopt those it placed itself (offered with their contentKey), as far
   * as each engine has room and the proxy stays within MAX_CLAIMS_PER_PROXY: the budget is shared out over
   * the hosts before any is asked. An offer beyond it (forged, or the engine filled up meanwhile) is refused,
   * logged, and comes back in `lost`, as does a claim of an unknown engine. Claims of a host whose manager
   * does not answer come back in neither list: the proxy keeps them and renews them next time.
   */
  async renew(req: RenewRequest, caller: string): Promise<RenewReply> {
    this.rules.assertActsFor(req.proxyId, caller, 'renew');
    const byHost = new Map<string, RenewedClaim[]>();
    for (const c of req.claims) {
      const host = this.hostOf(c.engineId);
      byHost.set(host, [...(byHost.get(host) ?? []), c]);
    }
    let budget = this.rules.room(req.proxyId);
    const refused: string[] = [];
    const replies = await Promise.all(
      [...byHost].map(([host, claims]) => {
        const offers = claims.filter((c) => c.contentKey !== undefined);
        const allowed = Math.min(offers.length, budget);
        budget -= allowed;
        const beyond = new Set(offers.slice(allowed).map((c) => c.claimId));
        refused.push(...beyond);
        const part = { proxyId: req.proxyId, claims: claims.filter((c) => !beyond.has(c.claimId)) };
        if (host === this.opts.hostId) return this.renewHere(part, caller, allowed);
        return this.forward(host, 'renew', part, caller, RenewReply);
      }),
    );
    if (refused.length > 0) {
      const why = 'the proxy is at MAX_CLAIMS_PER_PROXY';
      this.log.warn({ proxyId: req.proxyId, refused: refused.length, why }, 'refused adoption offers');
    }
    return {
      renewed: replies.flatMap((r) => r?.renewed ?? []),
      lost: [...replies.flatMap((r) => r?.lost ?? []), ...refused],
      ttlMs: this.opts.claimTtlMs,
    };
  }

  /**
   * A renewal of claims on this host's engines (forwarded here, or this host's part of a proxy's call),
   * adopting at most `allowed` offers (by default what the proxy may still hold).
   */
  async renewHere(
    req: RenewRequest,
    caller: string,
    allowed = this.rules.room(req.proxyId),
  ): Promise<RenewReply> {
    this.rules.assertActsFor(req.proxyId, caller, 'renew');
    const at = new Date().toISOString();
    const byEngine = new Map<string, RenewedClaim[]>();
    for (const c of req.claims) byEngine.set(c.engineId, [...(byEngine.get(c.engineId) ?? []), c]);
    let budget = allowed;
    const renewed: string[] = [];
    await Promise.all(
      [...byEngine].map(async ([engineId, claims]) => {
        if (this.hostOf(engineId) !== this.opts.hostId) return;
        const ids = new Set(claims.map((c) => c.claimId));
        const offers = claims.flatMap(({ claimId, contentKey }) =>
          contentKey === undefined ? [] : [{ claimId, contentKey }],
        );
        // Reserved before any write, so that engines renewed at once never share out more than the budget.
        const share = Math.min(offers.length, budget);
        budget -= share;
        let adopted = 0;
        const stored = await this.registry.mutate(engineId, (rec) => {
          const kept = withRenewed(rec, req.proxyId, at, ids);
          const next = withAdopted(kept ?? rec, req.proxyId, at, offers, share);
          adopted = next ? next.claims.length - rec.claims.length : 0;
          return next ?? kept;
        });
        if (adopted > 0) {
          this.log.info(
            { engineId, proxyId: req.proxyId, adopted },
            'adopted streams the proxy placed itself',
          );
        }
        this.rules.reportRefusedOffers(engineId, req.proxyId, offers, stored?.record);
        for (const c of stored?.record.claims ?? []) {
          if (ids.has(c.claimId) && c.proxyId === req.proxyId) renewed.push(c.claimId);
        }
      }),
    );
    const kept = new Set(renewed);
    const lost = req.claims.map((c) => c.claimId).filter((id) => !kept.has(id));
    return { renewed, lost, ttlMs: this.opts.claimTtlMs };
  }

  /** The host owning an engine; this host for an engine nobody knows (its claims are then lost here). */
  private hostOf(engineId: string): string {
    return this.registry.table.get(engineId)?.record.hostId ?? this.opts.hostId;
  }

  private heldBy(proxyId: string): EngineRecord[] {
    return this.registry.table.records().filter((r) => r.claims.some((c) => c.proxyId === proxyId));
  }

  /** `caller`'s call, forwarded to the manager of `host`; undefined (logged) when it did not answer. */
  private async forward<S extends TSchema>(
    host: string,
    call: 'release' | 'renew',
    req: ReleaseRequest | RenewRequest,
    caller: string,
    reply: S,
  ): Promise<Static<S> | undefined> {
    try {
      return await requestJson(
        this.nc,
        hostCallSubject(host, call, caller),
        req,
        reply,
        this.opts.hostCallTimeoutMs,
      );
    } catch (err) {
      this.log.warn({ host, call, caller, err: String(err) }, "the engine's host did not take the call");
      return undefined;
    }
  }
}
