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
} from '@acefleet/contracts';
import { requestJson, type Logger, type NatsConnection } from '@acefleet/platform';
import { KeyedLock } from '../lock.ts';
import type { ManagerMetrics } from '../metrics.ts';
import { otherHostsByLoad, rankCandidates } from './placement.ts';
import type { ClaimUpkeep } from './claim-upkeep.ts';
import type { ProxyRules } from './proxy-rules.ts';
import type { Provisioner } from '../lifecycle/provisioner.ts';
import type { EngineRegistry } from '../lifecycle/registry.ts';
import type { ClaimRoom } from './room.ts';

export interface FleetOptions {
  hostId: string;
  /** How long to wait for another host's manager to answer a forwarded acquire. */
  forwardTimeoutMs: number;
}

/** One acquire, as this host places it: the claim it would record, and the engines not to use. */
interface Ask {
  claim: Claim;
  exclude: ReadonlySet<string>;
  /** The engine the stream plays from now (a re-claim; never for a standby). */
  prefer: string | undefined;
  /** When the proxy stops waiting (ms since the epoch; Infinity: no deadline). */
  deadline: number;
}

const noRoomForStandby = (): AcefleetError =>
  new AcefleetError(
    'no_engine_available',
    'no engine has free room for a standby claim (a standby never starts an engine)',
  );

/** This host cannot create an engine (full, breaker open, VPN down): another host may. */
const isHostRefusal = (err: unknown): err is AcefleetError =>
  err instanceof AcefleetError && err.status === 503;

/**
 * Hands out engines in one pass: `acquireHere` claims room on an engine of this host by compare-and-set
 * (content affinity first), or has the provisioner create one holding the claim; `forwardToOtherHosts` asks
 * the other hosts' managers (which vouch for their own engines) when this host cannot. Releases and
 * renewals of the claims it grants are ClaimUpkeep's.
 */
export class Fleet {
  /** Acquires of one content decide one at a time on this host, so they join one engine while it has room. */
  private readonly perContent = new KeyedLock();

  constructor(
    private readonly registry: EngineRegistry,
    private readonly provisioner: Provisioner,
    private readonly claimRoom: ClaimRoom,
    private readonly upkeep: ClaimUpkeep,
    private readonly rules: ProxyRules,
    private readonly nc: NatsConnection,
    private readonly opts: FleetOptions,
    private readonly log: Logger,
    private readonly metrics: ManagerMetrics,
  ) {}

  list(): EngineRecord[] {
    return this.registry.table.records();
  }

  /**
   * An acquire from proxy `caller` (for one of its own ids): the host already playing the content (when it is
   * another and has room), else this host, else the other hosts.
   */
  acquire(req: AcquireRequest, caller: string): Promise<AcquireReply> {
    this.rules.assertActsFor(req.proxyId, caller, 'acquire');
    if (req.standby) return this.measured(req, (ask) => this.acquireStandby(req, ask));
    this.rules.assertRoom(req.proxyId);
    return this.measured(req, async (ask) => {
      const affine = this.hostPlayingElsewhere(ask);
      if (affine) {
        // forwardTo logged why that host could not take it: this host tries next.
        const reply = await this.forwardTo(affine, req, ask.deadline).catch(() => undefined);
        if (reply) return { reply, result: 'forwarded' };
      }
      try {
        return { reply: await this.acquireHere(ask), result: 'ok' };
      } catch (err) {
        if (!isHostRefusal(err)) throw err;
        return { reply: await this.forwardToOtherHosts(req, ask.deadline, err), result: 'forwarded' };
      }
    });
  }

  /**
   * A hot standby: free room on an existing engine, on the host whose best engine is on another host than
   * the excluded ones first (each host places its own). Never provisions: no room anywhere answers
   * `no_engine_available` at once. It is not held to MAX_CLAIMS_PER_PROXY: it only takes room no stream
   * needs, and gives it up to the first that does.
   */
  private async acquireStandby(
    req: AcquireRequest,
    ask: Ask,
  ): Promise<{ reply: AcquireReply; result: 'ok' | 'forwarded' }> {
    const ranked = rankCandidates(this.registry.table.records(), ask.claim, ask.exclude);
    for (const host of new Set(ranked.map((r) => r.hostId))) {
      if (host === this.opts.hostId) {
        const reply = await this.acquireHere(ask).catch((err: unknown) => {
          if (isHostRefusal(err)) return undefined; // filled up meanwhile: the next host
          throw err;
        });
        if (reply) return { reply, result: 'ok' };
        continue;
      }
      const reply = await this.forwardTo(host, req, ask.deadline).catch(() => undefined); // logged: next host
      if (reply) return { reply, result: 'forwarded' };
    }
    this.log.debug({ proxyId: req.proxyId, contentKey: ask.claim.contentKey }, 'no free room for a standby');
    throw noRoomForStandby();
  }

  /** An acquire another host's manager forwarded here: this host only, never forwarded again. */
  acquireForwarded(req: AcquireRequest): Promise<AcquireReply> {
    return this.measured(req, async (ask) => ({ reply: await this.acquireHere(ask), result: 'ok' }));
  }

  private async measured(
    req: AcquireRequest,
    place: (ask: Ask) => Promise<{ reply: AcquireReply; result: 'ok' | 'forwarded' }>,
  ): Promise<AcquireReply> {
    const end = this.metrics.acquireSeconds.startTimer();
    try {
      const ask = this.askOf(req);
      await this.withinDeadline(ask.deadline);
      const { reply, result } = await place(ask);
      end({ result });
      return reply;
    } catch (err) {
      end({ result: err instanceof AcefleetError ? err.code : 'internal' });
      throw err;
    }
  }

  private askOf(req: AcquireRequest): Ask {
    const now = new Date().toISOString();
    const claim: Claim = {
      claimId: randomUUID(),
      contentKey: contentKeyOf(req.content),
      proxyId: req.proxyId,
      claimedAt: now,
      renewedAt: now,
      ...(req.standby ? { standby: true } : {}),
    };
    const exclude = new Set(req.excludeEngineIds ?? []);
    if (req.failedEngineId) {
      exclude.add(req.failedEngineId);
      const { failedEngineId: engineId, failureReason: reason } = req;
      this.log.warn({ engineId, reason, contentKey: claim.contentKey }, 'proxy reports a failed start');
    }
    const deadline = req.deadline === undefined ? Infinity : Date.parse(req.deadline);
    const prefer = req.standby ? undefined : req.preferEngineId;
    return { claim, exclude, prefer, deadline };
  }

  /**
   * Claim room on an engine of this host by CAS alone, or have the provisioner create one holding the claim
   * (never for a standby); then wait until that engine is ready.
   */
  private async acquireHere({ claim, exclude, prefer, deadline }: Ask): Promise<AcquireReply> {
    const engineId = await this.perContent.run(claim.contentKey, async () => {
      const placed = await this.claimRoom(claim, exclude, prefer);
      if (placed) return placed;
      if (claim.standby) throw noRoomForStandby();
      return this.provisioner.provision({ claim, exclude, prefer });
    });
    const engine = await this.provisioner.awaitReady(engineId);
    await this.withinDeadline(deadline, { engineId, claimId: claim.claimId });
    this.log.info({ engineId, contentKey: claim.contentKey, claimId: claim.claimId }, 'claimed');
    // The proxy needs the engine and its own claim, not every other claim: at 100 claims the whole record
    // is about 24 KB to encode, send and validate on every acquire.
    const claims = engine.claims.filter((c) => c.claimId === claim.claimId);
    return { claimId: claim.claimId, engine: { ...engine, claims } };
  }

  /** A claim granted after the proxy stopped waiting would be held by no one: give it back instead. */
  private async withinDeadline(deadline: number, claim?: ClaimRelease): Promise<void> {
    if (Date.now() <= deadline) return;
    if (claim) await this.upkeep.dropClaim(claim);
    this.log.warn({ ...claim }, 'the proxy stopped waiting for this acquire: nothing granted');
    throw new AcefleetError('no_engine_available', 'no engine was ready before the acquire deadline');
  }

  /**
   * Another host whose engine the stream plays from (a re-claim) or that plays the content, with room, when
   * no engine of this host ranks first.
   */
  private hostPlayingElsewhere({ claim, exclude, prefer }: Ask): string | undefined {
    const [best] = rankCandidates(this.registry.table.records(), claim, exclude, prefer);
    if (!best || best.hostId === this.opts.hostId) return undefined;
    const playing = best.id === prefer || best.claims.some((c) => c.contentKey === claim.contentKey);
    return playing ? best.hostId : undefined;
  }

  /** This host cannot create an engine: ask the others, least loaded first; else report the local refusal. */
  private async forwardToOtherHosts(
    req: AcquireRequest,
    deadline: number,
    localError: AcefleetError,
  ): Promise<AcquireReply> {
    for (const host of otherHostsByLoad(this.registry.table.records(), this.opts.hostId)) {
      const reply = await this.forwardTo(host, req, deadline).catch(() => undefined); // logged: next host
      if (reply) return reply;
    }
    throw localError;
  }

  private async forwardTo(host: string, req: AcquireRequest, deadline: number): Promise<AcquireReply> {
    const left = Math.min(this.opts.forwardTimeoutMs, deadline - Date.now());
    if (left <= 0) throw new AcefleetError('no_engine_available', 'the acquire deadline has passed');
    try {
      return await requestJson(this.nc, hostSubject(host, 'acquire'), req, AcquireReply, left);
    } catch (err) {
      this.log.debug({ host, err: String(err) }, 'other host could not take the stream');
      throw err;
    }
  }
}
