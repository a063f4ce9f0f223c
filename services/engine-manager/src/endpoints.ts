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
  type DrainReply,
  type ListReply,
  type ProvisionReply,
  type StatusReply,
  hostSubject,
} from '@acefleet/contracts';
import { addJsonEndpoint, type Logger } from '@acefleet/platform';
import type { Drainer } from './drainer.ts';
import type { Fleet } from './fleet.ts';
import type { Provisioner } from './provisioner.ts';

export interface EndpointDeps {
  hostId: string;
  fleet: Fleet;
  provisioner: Provisioner;
  drainer: Drainer;
  status: () => StatusReply;
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
  ): void => addJsonEndpoint(service, log, { name, subject, request, ...(queue ? { queue } : {}) }, handler);

  const provision = async (req: ProvisionRequest): Promise<ProvisionReply> => {
    const ids: string[] = [];
    for (let i = 0; i < (req.count ?? 1); i++) {
      ids.push(await d.provisioner.decisions.run(() => d.provisioner.provision([])));
    }
    return { engines: await Promise.all(ids.map((id) => d.provisioner.awaitReady(id))) };
  };

  add('acquire', Subjects.engineAcquire, AcquireRequest, (req) => d.fleet.acquire(req));
  add('release', Subjects.engineRelease, ReleaseRequest, (req) => d.fleet.release(req));
  add('renew', Subjects.engineRenew, RenewRequest, (req) => d.fleet.renew(req));
  add('list', Subjects.engineList, Empty, async () => ({ engines: d.fleet.list() }) satisfies ListReply);
  add('status', Subjects.engineStatus, Empty, async () => d.status());
  add('provision', Subjects.engineProvision, ProvisionRequest, provision);
  add('drain', Subjects.engineDrain, DrainRequest, async (req): Promise<DrainReply> => {
    return { engine: await d.drainer.drain(req.engineId, 'admin', req.deadlineMs) };
  });
  add('remove', Subjects.engineRemove, RemoveRequest, async (req): Promise<DrainReply> => {
    const engine = await d.drainer.drain(req.engineId, 'admin', req.force ? 0 : undefined);
    if (req.force && engine.hostId === d.hostId) await d.drainer.tick();
    return { engine };
  });
  const self = `host-${d.hostId}`;
  add(`${self}-acquire`, hostSubject(d.hostId, 'acquire'), AcquireRequest, (req) =>
    d.fleet.acquire(req, false),
  );
  add(`${self}-provision`, hostSubject(d.hostId, 'provision'), ProvisionRequest, provision);
  add(`${self}-status`, hostSubject(d.hostId, 'status'), Empty, async () => d.status());
}
