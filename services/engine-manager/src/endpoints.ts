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
  type ListReply,
  type StatusReply,
  hostSubject,
} from '@acefleet/contracts';
import { addJsonEndpoint, type Logger } from '@acefleet/platform';
import type { AdminOperations } from './admin.ts';
import type { Fleet } from './fleet.ts';

export interface EndpointDeps {
  hostId: string;
  fleet: Fleet;
  admin: AdminOperations;
  status: () => StatusReply;
  /** Throws not_leader unless this manager leads its host now (a paused leader wakes to queued requests). */
  assertLeading: () => void;
}

const Empty = Type.Object({});
const QUEUE = 'engine-manager';

/**
 * The manager's NATS micro endpoints. Shared subjects are served by the queue group (any manager answers);
 * `acefleet.engines.host.<hostId>.*` reach this host's manager only (forwarded acquires, targeted provision
 * and status).
 */
export function registerEndpoints(service: Service, log: Logger, d: EndpointDeps): void {
  const add = <S extends TSchema>(
    name: string,
    subject: string,
    request: S,
    handler: (req: Static<S>) => Promise<unknown>,
    queue: string | undefined = QUEUE,
  ): void =>
    addJsonEndpoint(service, log, { name, subject, request, ...(queue ? { queue } : {}) }, (req) => {
      d.assertLeading();
      return handler(req);
    });

  const provision = (req: ProvisionRequest) => d.admin.provision(req);

  add('acquire', Subjects.engineAcquire, AcquireRequest, (req) => d.fleet.acquire(req));
  add('release', Subjects.engineRelease, ReleaseRequest, (req) => d.fleet.release(req));
  add('renew', Subjects.engineRenew, RenewRequest, (req) => d.fleet.renew(req));
  add('list', Subjects.engineList, Empty, async () => ({ engines: d.fleet.list() }) satisfies ListReply);
  add('status', Subjects.engineStatus, Empty, async () => d.status());
  add('provision', Subjects.engineProvision, ProvisionRequest, provision);
  add('drain', Subjects.engineDrain, DrainRequest, (req) => d.admin.drain(req));
  add('remove', Subjects.engineRemove, RemoveRequest, (req) => d.admin.remove(req));
  const self = `host-${d.hostId}`;
  add(`${self}-acquire`, hostSubject(d.hostId, 'acquire'), AcquireRequest, (req) =>
    d.fleet.acquireForwarded(req),
  );
  add(`${self}-provision`, hostSubject(d.hostId, 'provision'), ProvisionRequest, provision);
  add(`${self}-status`, hostSubject(d.hostId, 'status'), Empty, async () => d.status());
}
