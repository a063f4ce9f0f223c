import type { Service } from '@nats-io/services';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import {
  AcquireRequest,
  DrainRequest,
  ProvisionRequest,
  ReleaseRequest,
  RemoveRequest,
  RenewRequest,
  Subjects,
  UpgradeRequest,
  callerOf,
  hostCallSubject,
  type ListReply,
  type ProxyCall,
  type StatusReply,
  hostSubject,
  proxyCallSubject,
} from '@acefleet/contracts';
import { addJsonEndpoint, type Logger } from '@acefleet/platform';
import type { AdminOperations } from './admin.ts';
import type { ClaimUpkeep } from '../claims/claim-upkeep.ts';
import type { Fleet } from '../claims/fleet.ts';

export interface EndpointDeps {
  hostId: string;
  fleet: Fleet;
  upkeep: ClaimUpkeep;
  admin: AdminOperations;
  status: () => StatusReply;
  /** Throws not_leader unless this manager leads its host now (a paused leader wakes to queued requests). */
  assertLeading: () => void;
}

const Empty = Type.Object({});
const QUEUE = 'engine-manager';

/**
 * The manager's NATS micro endpoints. Shared subjects are served by the queue group (any manager answers);
 * `acefleet.engines.host.<hostId>.*` reach this host's manager only: acquires, releases, renewals, drains
 * and removals forwarded by the other managers (this one is the only writer of its records), targeted
 * provision and status. A proxy calls acquire, release and renew under its own name
 * (`acefleet.engines.<call>.<name>`, which only that proxy's NATS user may publish): the handler gets the name
 * as the caller; a forwarded release or renewal keeps it (`…host.<hostId>.<call>.<name>`, managers only).
 */
export function registerEndpoints(service: Service, log: Logger, d: EndpointDeps): void {
  const add = <S extends TSchema>(
    name: string,
    subject: string,
    request: S,
    handler: (req: Static<S>, subject: string) => Promise<unknown>,
    queue: string | undefined = QUEUE,
  ): void =>
    addJsonEndpoint(service, log, { name, subject, request, ...(queue ? { queue } : {}) }, (req, on) => {
      d.assertLeading();
      return handler(req, on);
    });
  const fromProxy =
    <S extends TSchema>(
      call: ProxyCall,
      handler: (req: Static<S>, caller: string) => Promise<unknown>,
      forwardedTo?: string,
    ) =>
    (req: Static<S>, subject: string) =>
      handler(req, callerOf(call, subject, forwardedTo) ?? '');

  const provision = (req: ProvisionRequest) => d.admin.provision(req);

  add(
    'acquire',
    proxyCallSubject('acquire', '*'),
    AcquireRequest,
    fromProxy<typeof AcquireRequest>('acquire', (req, caller) => d.fleet.acquire(req, caller)),
  );
  add(
    'release',
    proxyCallSubject('release', '*'),
    ReleaseRequest,
    fromProxy<typeof ReleaseRequest>('release', (req, caller) => d.upkeep.release(req, caller)),
  );
  add(
    'renew',
    proxyCallSubject('renew', '*'),
    RenewRequest,
    fromProxy<typeof RenewRequest>('renew', (req, caller) => d.upkeep.renew(req, caller)),
  );
  add('list', Subjects.engineList, Empty, async () => ({ engines: d.fleet.list() }) satisfies ListReply);
  add('status', Subjects.engineStatus, Empty, async () => d.status());
  add('provision', Subjects.engineProvision, ProvisionRequest, provision);
  add('drain', Subjects.engineDrain, DrainRequest, (req) => d.admin.drain(req));
  add('remove', Subjects.engineRemove, RemoveRequest, (req) => d.admin.remove(req));
  add('upgrade', Subjects.engineUpgrade, UpgradeRequest, (req) => d.admin.upgrade(req));
  const self = `host-${d.hostId}`;
  add(`${self}-acquire`, hostSubject(d.hostId, 'acquire'), AcquireRequest, (req) =>
    d.fleet.acquireForwarded(req),
  );
  add(
    `${self}-release`,
    hostCallSubject(d.hostId, 'release', '*'),
    ReleaseRequest,
    fromProxy<typeof ReleaseRequest>('release', (req, caller) => d.upkeep.releaseHere(req, caller), d.hostId),
  );
  add(
    `${self}-renew`,
    hostCallSubject(d.hostId, 'renew', '*'),
    RenewRequest,
    fromProxy<typeof RenewRequest>('renew', (req, caller) => d.upkeep.renewHere(req, caller), d.hostId),
  );
  add(`${self}-drain`, hostSubject(d.hostId, 'drain'), DrainRequest, (req) => d.admin.drain(req));
  add(`${self}-remove`, hostSubject(d.hostId, 'remove'), RemoveRequest, (req) => d.admin.remove(req));
  add(`${self}-upgrade`, hostSubject(d.hostId, 'upgrade'), UpgradeRequest, (req) =>
    d.admin.upgrade({ ...req, hostId: d.hostId }),
  );
  add(`${self}-provision`, hostSubject(d.hostId, 'provision'), ProvisionRequest, provision);
  add(`${self}-status`, hostSubject(d.hostId, 'status'), Empty, async () => d.status());
}
