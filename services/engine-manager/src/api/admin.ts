import {
  AcefleetError,
  DrainReply,
  StopStreamReply,
  UpgradeReply,
  hostSubject,
  proxySubject,
  type DrainRequest,
  type EngineRecord,
  type ProvisionReply,
  type ProvisionRequest,
  type RemoveRequest,
  type ScaleReply,
  type ScaleRequest,
  type UpgradeRequest,
} from '@acefleet/contracts';
import { requestJson, type NatsConnection } from '@acefleet/platform';
import type { Drainer } from '../lifecycle/drainer.ts';
import type { Provisioner } from '../lifecycle/provisioner.ts';
import { assertPinnedImage, type EngineUpgrader } from '../lifecycle/upgrader.ts';

export interface AdminDeps {
  hostId: string;
  provisioner: Provisioner;
  drainer: Drainer;
  nc: NatsConnection;
  /** Every engine of the fleet (all hosts), as the engines bucket has them. */
  records: () => EngineRecord[];
  limits: { minReplicas: number; maxReplicas: number };
  /** How long a proxy, or another host's manager, has to answer. */
  proxyTimeoutMs: number;
  upgrader: EngineUpgrader;
  /** The longest one engine's replacement may take (ready, drained, removed): bounds a forwarded upgrade. */
  upgradeStepMs: number;
}

export interface AdminOperations {
  provision(req: ProvisionRequest): Promise<ProvisionReply>;
  drain(req: DrainRequest): Promise<DrainReply>;
  remove(req: RemoveRequest): Promise<DrainReply>;
  scale(req: ScaleRequest): Promise<ScaleReply>;
  /** Stop the stream holding `claimId`, through the proxy holding the claim. */
  stopStream(claimId: string): Promise<StopStreamReply>;
  /**
   * Rolling upgrade of `hostId`'s engines, or of every host's one host after another (each forwarded to its
   * manager); stops at the first failure, which the reply carries (`error`).
   */
  upgrade(req: UpgradeRequest): Promise<UpgradeReply>;
}

const isUsable = (r: EngineRecord): boolean => r.state === 'ready' || r.state === 'starting';

/** What an operator may do to the fleet; served on NATS (endpoints.ts) and HTTP (admin-routes.ts). */
export function adminOperations(d: AdminDeps): AdminOperations {
  const provision = async (req: ProvisionRequest): Promise<ProvisionReply> => {
    const ids: string[] = [];
    for (let i = 0; i < (req.count ?? 1); i++) {
      ids.push(await d.provisioner.provision());
    }
    return { engines: await Promise.all(ids.map((id) => d.provisioner.awaitReady(id))) };
  };
  /** The manager of another host's engine, which alone writes its record; undefined for this host's. */
  const ownerOf = (engineId: string): string | undefined => {
    const host = d.records().find((r) => r.id === engineId)?.hostId;
    return host === undefined || host === d.hostId ? undefined : host;
  };
  /** Another host's upgrade, forwarded to its manager: as long as its engines may take, one at a time. */
  const upgradeThere = (host: string, req: UpgradeRequest): Promise<UpgradeReply> => {
    const engines = d.records().filter((r) => r.hostId === host).length;
    const timeoutMs = (engines + 1) * d.upgradeStepMs;
    return requestJson(d.nc, hostSubject(host, 'upgrade'), { ...req, hostId: host }, UpgradeReply, timeoutMs);
  };
  const upgradeHost = (host: string, req: UpgradeRequest): Promise<UpgradeReply> =>
    host === d.hostId ? d.upgrader.upgrade(req.image) : upgradeThere(host, req);
  return {
    provision,
    async upgrade(req) {
      if (req.image !== undefined) assertPinnedImage(req.image);
      if (req.hostId !== undefined) return upgradeHost(req.hostId, req);
      const others = new Set(d.records().map((r) => r.hostId));
      others.delete(d.hostId);
      const started = Date.now();
      const total: UpgradeReply = { hosts: [], replaced: [], skipped: [], tookMs: 0 };
      for (const host of [d.hostId, ...[...others].sort()]) {
        const reply = await upgradeHost(host, req).catch((err: unknown): UpgradeReply => ({
          hosts: [host],
          replaced: [],
          skipped: [],
          tookMs: 0,
          error: {
            code: err instanceof AcefleetError ? err.code : 'internal',
            message: `host ${host}: ${err instanceof Error ? err.message : String(err)}`,
          },
        }));
        total.hosts.push(...reply.hosts);
        total.replaced.push(...reply.replaced);
        total.skipped.push(...reply.skipped);
        total.image ??= reply.image;
        if (reply.error) return { ...total, tookMs: Date.now() - started, error: reply.error };
      }
      return { ...total, tookMs: Date.now() - started };
    },
    async drain(req) {
      const owner = ownerOf(req.engineId);
      if (owner) return requestJson(d.nc, hostSubject(owner, 'drain'), req, DrainReply, d.proxyTimeoutMs);
      return { engine: await d.drainer.drain(req.engineId, 'admin', req.deadlineMs) };
    },
    async remove(req) {
      const owner = ownerOf(req.engineId);
      if (owner) return requestJson(d.nc, hostSubject(owner, 'remove'), req, DrainReply, d.proxyTimeoutMs);
      const engine = await d.drainer.drain(req.engineId, 'admin', req.force ? 0 : undefined);
      if (req.force) await d.drainer.tick();
      return { engine };
    },
    /**
     * One step to `replicas` usable (starting or ready) engines on this host: provision the missing ones, or
     * drain the surplus, least loaded first. Bounded by MIN_REPLICAS and MAX_REPLICAS, which the autoscaler
     * keeps on enforcing (as it keeps MIN_FREE_REPLICAS spares and drains engines idle past the grace).
     */
    async scale({ replicas }) {
      const { minReplicas, maxReplicas } = d.limits;
      if (replicas < minReplicas || replicas > maxReplicas) {
        throw new AcefleetError(
          'bad_request',
          `replicas must be between MIN_REPLICAS (${minReplicas}) and MAX_REPLICAS (${maxReplicas})`,
        );
      }
      const usable = d.provisioner
        .ours()
        .map((e) => e.record)
        .filter(isUsable);
      if (usable.length < replicas) {
        const { engines } = await provision({ count: replicas - usable.length });
        return { replicas, provisioned: engines, draining: [] };
      }
      const surplus = usable
        .sort((a, b) => a.claims.length - b.claims.length)
        .slice(0, usable.length - replicas);
      const draining = await Promise.all(surplus.map((r) => d.drainer.drain(r.id, 'admin')));
      return { replicas, provisioned: [], draining };
    },
    async stopStream(claimId) {
      const claim = d
        .records()
        .flatMap((r) => r.claims)
        .find((c) => c.claimId === claimId);
      if (!claim) throw new AcefleetError('stream_not_found', `no stream ${claimId}`);
      const subject = proxySubject(claim.proxyId, 'stop');
      return requestJson(d.nc, subject, { claimId }, StopStreamReply, d.proxyTimeoutMs);
    },
  };
}
