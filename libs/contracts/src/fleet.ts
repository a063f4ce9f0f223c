import { Type, type Static } from '@sinclair/typebox';
import { Claim, EngineRecord, Id, IsoTime } from './schemas.ts';

/**
 * A proxy keeps its claims alive by renewing them (every claim TTL / 3). Claims the manager no longer knows
 * come back in `lost`: the proxy must treat those streams' engines as gone (re-acquire or end them).
 *
 * A claim with a `contentKey` is a stream the proxy placed itself (the manager did not answer its acquire,
 * the claim id is the proxy's own): the engine's manager adopts it onto the record, even beyond capacity
 * since the stream already plays there, and lists it under `renewed`. Not adopted (unknown engine, another
 * host's): it comes back in `lost`, and the proxy offers it again with its next renewal.
 */
export const RenewRequest = Type.Object({
  proxyId: Id,
  claims: Type.Array(
    Type.Object({ engineId: Id, claimId: Id, contentKey: Type.Optional(Type.String({ maxLength: 64 })) }),
    { maxItems: 5000 },
  ),
});
export type RenewRequest = Static<typeof RenewRequest>;

export const RenewReply = Type.Object({
  renewed: Type.Array(Id),
  lost: Type.Array(Id),
  /** The claim TTL in force: renew again well before it runs out. */
  ttlMs: Type.Integer({ minimum: 1 }),
});
export type RenewReply = Static<typeof RenewReply>;

export const DrainReason = Type.Union([
  Type.Literal('admin'),
  Type.Literal('idle'),
  Type.Literal('unhealthy'),
  Type.Literal('vpn_port_changed'),
  Type.Literal('config_changed'),
  /** Recycled (ENGINE_MAX_AGE_MS, ENGINE_RECYCLE_MEMORY_MB, ENGINE_DISK_MAX_MB): older, bigger or fuller than allowed. */
  Type.Literal('max_age'),
  Type.Literal('memory'),
  Type.Literal('disk'),
  /** Replaced by a rolling upgrade (`acefleet engines upgrade`): its successor is ready beside it. */
  Type.Literal('upgrade'),
]);
export type DrainReason = Static<typeof DrainReason>;

/** Event on Subjects.engineDraining: move these streams off the engine before `deadline`. */
export const EngineDraining = Type.Object({
  engineId: Id,
  hostId: Id,
  reason: DrainReason,
  deadline: IsoTime,
  claims: Type.Array(Claim),
  at: IsoTime,
});
export type EngineDraining = Static<typeof EngineDraining>;

export const RemoveRequest = Type.Object({
  engineId: Id,
  /** Remove without waiting for its streams to move (they end). */
  force: Type.Optional(Type.Boolean()),
});
export type RemoveRequest = Static<typeof RemoveRequest>;

export const DrainRequest = Type.Object({
  engineId: Id,
  /** How long streams have to move before the engine is removed; the manager's default when absent. */
  deadlineMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 24 * 3600_000 })),
});
export type DrainRequest = Static<typeof DrainRequest>;

export const DrainReply = Type.Object({ engine: EngineRecord });
export type DrainReply = Static<typeof DrainReply>;

export const ProvisionRequest = Type.Object({
  count: Type.Optional(Type.Integer({ minimum: 1, maximum: 20 })),
});
export type ProvisionRequest = Static<typeof ProvisionRequest>;

export const ProvisionReply = Type.Object({ engines: Type.Array(EngineRecord) });
export type ProvisionReply = Static<typeof ProvisionReply>;

/**
 * A rolling upgrade: every engine (of `hostId`, or of every host, one host after another) replaced one at a
 * time, make-before-break: a new engine started and ready, then the old one drained and removed.
 */
export const UpgradeRequest = Type.Object({
  /**
   * The image every new engine of the host(s) gets from now on (a tag other than `latest`, or a digest);
   * engines already made from it are skipped. Absent: the image in force, every engine replaced.
   */
  image: Type.Optional(Type.String({ minLength: 1, maxLength: 300 })),
  /** Only this host's engines; absent: every host. */
  hostId: Type.Optional(Id),
});
export type UpgradeRequest = Static<typeof UpgradeRequest>;

export const EngineReplacement = Type.Object({
  hostId: Id,
  /** The engine replaced (drained and removed). */
  from: Id,
  /** Its successor, ready before `from` was drained. */
  to: Id,
  image: Type.Optional(Type.String()),
  tookMs: Type.Integer({ minimum: 0 }),
});
export type EngineReplacement = Static<typeof EngineReplacement>;

/**
 * What an upgrade did: the engines replaced (in order), those skipped as already made from the image, and,
 * when it stopped at a failure, the error (the engines not yet replaced are untouched).
 */
export const UpgradeReply = Type.Object({
  image: Type.Optional(Type.String()),
  hosts: Type.Array(Id),
  replaced: Type.Array(EngineReplacement),
  skipped: Type.Array(Id),
  tookMs: Type.Integer({ minimum: 0 }),
  error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() })),
});
export type UpgradeReply = Static<typeof UpgradeReply>;

export const BreakerState = Type.Union([
  Type.Literal('closed'),
  Type.Literal('open'),
  Type.Literal('half_open'),
]);
export type BreakerState = Static<typeof BreakerState>;

/** Managers sharing a HOST_ID: one leads (serves, provisions, reconciles), the others stand by. */
export const ManagerRole = Type.Union([Type.Literal('leader'), Type.Literal('standby')]);
export type ManagerRole = Static<typeof ManagerRole>;

/**
 * The leader lease of one host (bucket LEADERS_BUCKET, key = host id), written by compare-and-set. A standby
 * takes it over when its revision has not changed for `ttlMs` on the standby's own clock; `renewedAt` (the
 * holder's clock) is for people only.
 */
export const LeaderLease = Type.Object({
  holder: Type.String({ minLength: 1 }),
  renewedAt: IsoTime,
  ttlMs: Type.Integer({ minimum: 1 }),
});
export type LeaderLease = Static<typeof LeaderLease>;

/** One manager's view of its host: what runs, and whether (and why not) it can provision now. */
export const StatusReply = Type.Object({
  hostId: Id,
  instanceId: Type.String(),
  role: ManagerRole,
  engines: Type.Object({
    total: Type.Integer({ minimum: 0 }),
    byState: Type.Record(Type.String(), Type.Integer({ minimum: 0 })),
    free: Type.Integer({ minimum: 0 }),
  }),
  claims: Type.Integer({ minimum: 0 }),
  limits: Type.Object({
    minReplicas: Type.Integer(),
    minFreeReplicas: Type.Integer(),
    maxReplicas: Type.Integer(),
    maxStreamsPerEngine: Type.Integer(),
    claimTtlMs: Type.Integer(),
  }),
  breaker: Type.Object({
    state: BreakerState,
    consecutiveFailures: Type.Integer({ minimum: 0 }),
    retryAfterMs: Type.Optional(Type.Integer({ minimum: 0 })),
    lastError: Type.Optional(Type.String()),
  }),
  vpn: Type.Optional(
    Type.Object({
      up: Type.Boolean(),
      forwardedPort: Type.Integer({ minimum: 0 }),
      reason: Type.Optional(Type.String()),
    }),
  ),
  canProvision: Type.Boolean(),
  /** Why provisioning is refused right now (breaker open, VPN down, at maxReplicas). */
  reason: Type.Optional(Type.String()),
});
export type StatusReply = Static<typeof StatusReply>;
