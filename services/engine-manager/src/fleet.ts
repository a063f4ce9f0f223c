import { randomUUID } from 'node:crypto';
import {
  AcefleetError,
  AcquireReply,
  contentKeyOf,
  hostSubject,
  type AcquireRequest,
  type Claim,
  type ClaimRelease,
  type EngineRecord,
  type ProxyRelease,
  type ReleaseReply,
  type ReleaseRequest,
  type RenewReply,
  type RenewRequest,
} from '@acefleet/contracts';
import { requestJson, type Logger, type NatsConnection } from '@acefleet/platform';
import { withAdopted, withoutClaims, withRenewed } from './leases.ts';
import type { ManagerMetrics } from './metrics.ts';
import { hasRoom, otherHostsByLoad, rankCandidates } from './placement.ts';
import type { Provisioner } from './provisioner.ts';
import type { EngineRegistry } from './registry.ts';

export interface FleetOptions {
  hostId: string;
  claimTtlMs: number;
  /** How long to wait for another host's manager to answer a forwarded acquire. */
  forwardTimeoutMs: number;
  /** Whether an engine record may be handed out from here (engine-address.ts): engines of this host only. */
  ownEngine: (rec: EngineRecord) => boolean;
}

/**
 * Hands out engines: claims room on the best engine of this host by compare-and-set, or creates one (here,
 * else through the least loaded other host's manager, which vouches for its own engines), and keeps claims
 * as leases that proxies renew.
 */
export class Fleet {
  constructor(
    private readonly registry: EngineRegistry,
    private readonly provisioner: Provisioner,
    private readonly nc: NatsConnection,
    private readonly opts: FleetOptions,
    private readonly log: Logger,
    private readonly metrics: ManagerMetrics,
  ) {}

  list(): EngineRecord[] {
    return this.registry.table.records();
  }

  /** `forward`: may ask other hosts when this one cannot create an engine (false for forwarded requests). */
  async acquire(req: AcquireRequest, forward = true): Promise<AcquireReply> {
    const end = this.metrics.acquireSeconds.startTimer();
    const deadline = req.deadline === undefined ? Infinity : Date.parse(req.deadline);
    const now = new Date().toISOString();
    const claim: Claim = {
      claimId: randomUUID(),
      contentKey: contentKeyOf(req.content),
      proxyId: req.proxyId,
      claimedAt: now,
      renewedAt: now,
    };
    try {
      await this.withinDeadline(deadline);
      const exclude = new Set(req.excludeEngineIds ?? []);
      if (req.failedEngineId) {
        exclude.add(req.failedEngineId);
        const { failedEngineId: engineId, failureReason: reason } = req;
        this.log.warn({ engineId, reason, contentKey: claim.contentKey }, 'proxy reports a failed start');
      }
      const placed = await this.provisioner.decisions
        .run(() => this.claimOrProvision(claim, exclude))
        .catch((err: unknown) => this.forward(req, deadline, err, forward));
      if ('claimId' in placed) {
        end({ result: 'forwarded' });
        return placed;
      }
      const engine = await this.provisioner.awaitReady(placed.engineId);
      await this.withinDeadline(deadline, { engineId: engine.id, claimId: claim.claimId });
      this.log.info({ engineId: engine.id, contentKey: claim.contentKey, claimId: claim.claimId }, 'claimed');
      end({ result: 'ok' });
      return { claimId: claim.claimId, engine };
    } catch (err) {
      end({ result: err instanceof AcefleetError ? err.code : 'internal' });
      throw err;
    }
  }

  /** A claim granted after the proxy stopped waiting would be held by no one: give it back instead. */
  private async withinDeadline(deadline: number, claim?: ClaimRelease): Promise<void> {
    if (Date.now() <= deadline) return;
    if (claim) await this.release(claim);
    this.log.warn({ ...claim }, 'the proxy stopped waiting for this acquire: nothing granted');
    throw new AcefleetError('no_engine_available', 'no engine was ready before the acquire deadline');
  }

  /** Claim room on an engine of this host (content affinity first) by CAS, or provision one holding the claim. */
  private async claimOrProvision(claim: Claim, exclude: Set<string>): Promise<{ engineId: string }> {
    for (;;) {
      const own = this.registry.table.records().filter(this.opts.ownEngine);
      const [candidate] = rankCandidates(own, claim.contentKey, exclude);
      if (!candidate) break;
      const stored = await this.registry.mutate(candidate.id, (rec) =>
        hasRoom(rec) && this.opts.ownEngine(rec) ? { ...rec, claims: [...rec.claims, claim] } : undefined,
      );
      if (stored?.record.claims.some((c) => c.claimId === claim.claimId)) return { engineId: candidate.id };
      exclude.add(candidate.id);
    }
    return { engineId: await this.provisioner.provision([claim]) };
  }

  /** This host cannot create an engine: ask the others, least loaded first; else report the local refusal. */
  private async forward(
    req: AcquireRequest,
    deadline: number,
    localError: unknown,
    allowed: boolean,
  ): Promise<AcquireReply> {
    if (!allowed || !(localError instanceof AcefleetError) || localError.status !== 503) throw localError;
    for (const host of otherHostsByLoad(this.registry.table.records(), this.opts.hostId)) {
      const left = Math.min(this.opts.forwardTimeoutMs, deadline - Date.now());
      if (left <= 0) break;
      try {
        return await requestJson(this.nc, hostSubject(host, 'acquire'), req, AcquireReply, left);
      } catch (err) {
        this.log.debug({ host, err: String(err) }, 'other host could not take the stream');
      }
    }
    throw localError;
  }

  release(req: ReleaseRequest): Promise<ReleaseReply> {
    return 'all' in req ? this.releaseProxy(req) : this.releaseClaim(req);
  }

  private async releaseClaim(req: ClaimRelease): Promise<ReleaseReply> {
    const count = await this.dropClaims(req.engineId, () => new Set([req.claimId]));
    if (count > 0) this.log.info({ engineId: req.engineId, claimId: req.claimId }, 'released');
    return { released: count > 0, count };
  }

  /** Every claim of a proxy instance, on every engine of the fleet (a restarted proxy's predecessor's). */
  private async releaseProxy(req: ProxyRelease): Promise<ReleaseReply> {
    const held = this.registry.table.records().filter((r) => r.claims.some((c) => c.proxyId === req.proxyId));
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
   * Renew the claims a proxy holds; adopt those it placed itself (offered with their contentKey) onto the
   * engines of this host, whether or not they have room: the streams already play there.
   */
  async renew(req: RenewRequest): Promise<RenewReply> {
    const at = new Date().toISOString();
    const byEngine = new Map<string, RenewRequest['claims']>();
    for (const c of req.claims) byEngine.set(c.engineId, [...(byEngine.get(c.engineId) ?? []), c]);
    const renewed: string[] = [];
    await Promise.all(
      [...byEngine].map(async ([engineId, claims]) => {
        const ids = new Set(claims.map((c) => c.claimId));
        const offers = claims.flatMap(({ claimId, contentKey }) =>
          contentKey === undefined ? [] : [{ claimId, contentKey }],
        );
        let adopted = 0;
        const stored = await this.registry.mutate(engineId, (rec) => {
          const kept = withRenewed(rec, req.proxyId, at, ids);
          const next = this.opts.ownEngine(rec)
            ? withAdopted(kept ?? rec, req.proxyId, at, offers)
            : undefined;
          adopted = next ? next.claims.length - rec.claims.length : 0;
          return next ?? kept;
        });
        if (adopted > 0) {
          this.log.info(
            { engineId, proxyId: req.proxyId, adopted },
            'adopted streams the proxy placed itself',
          );
        }
        for (const c of stored?.record.claims ?? []) {
          if (ids.has(c.claimId) && c.proxyId === req.proxyId) renewed.push(c.claimId);
        }
      }),
    );
    const kept = new Set(renewed);
    const lost = req.claims.map((c) => c.claimId).filter((id) => !kept.has(id));
    return { renewed, lost, ttlMs: this.opts.claimTtlMs };
  }
}
