import type {
  DrainReply,
  DrainRequest,
  ProvisionReply,
  ProvisionRequest,
  RemoveRequest,
} from '@acefleet/contracts';
import type { Drainer } from './drainer.ts';
import type { Provisioner } from './provisioner.ts';

export interface AdminDeps {
  hostId: string;
  provisioner: Provisioner;
  drainer: Drainer;
}

export interface AdminOperations {
  provision(req: ProvisionRequest): Promise<ProvisionReply>;
  drain(req: DrainRequest): Promise<DrainReply>;
  remove(req: RemoveRequest): Promise<DrainReply>;
}

/** What an operator may do to the fleet; served on NATS (endpoints.ts) and HTTP (admin-routes.ts) alike. */
export function adminOperations(d: AdminDeps): AdminOperations {
  return {
    async provision(req) {
      const ids: string[] = [];
      for (let i = 0; i < (req.count ?? 1); i++) {
        ids.push(await d.provisioner.decisions.run(() => d.provisioner.provision([])));
      }
      return { engines: await Promise.all(ids.map((id) => d.provisioner.awaitReady(id))) };
    },
    async drain(req) {
      return { engine: await d.drainer.drain(req.engineId, 'admin', req.deadlineMs) };
    },
    async remove(req) {
      const engine = await d.drainer.drain(req.engineId, 'admin', req.force ? 0 : undefined);
      if (req.force && engine.hostId === d.hostId) await d.drainer.tick();
      return { engine };
    },
  };
}
