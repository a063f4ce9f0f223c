import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { DrainRequest, Id, ProvisionRequest } from '@acefleet/contracts';
import type { AdminOperations } from './admin.ts';

const EngineParams = Type.Object({ id: Id });
const DrainBody = Type.Union([Type.Omit(DrainRequest, ['engineId']), Type.Null()]);
const RemoveQuery = Type.Object({ force: Type.Optional(Type.Boolean()) });

/**
 * The state-changing admin API (the access policy asks for the API key on every one):
 * `POST /api/engines/provision` `{count}`, `POST /api/engines/:id/drain` `{deadlineMs?}`,
 * `DELETE /api/engines/:id[?force=true]`.
 */
export function adminRoutes(app: FastifyInstance, admin: AdminOperations): void {
  app.post<{ Body: ProvisionRequest | null }>(
    '/api/engines/provision',
    { schema: { body: Type.Union([ProvisionRequest, Type.Null()]) } },
    async (req, reply) => reply.code(201).send(await admin.provision(req.body ?? {})),
  );
  app.post<{ Params: Static<typeof EngineParams>; Body: Static<typeof DrainBody> }>(
    '/api/engines/:id/drain',
    { schema: { params: EngineParams, body: DrainBody } },
    async (req) => admin.drain({ ...req.body, engineId: req.params.id }),
  );
  app.delete<{ Params: Static<typeof EngineParams>; Querystring: Static<typeof RemoveQuery> }>(
    '/api/engines/:id',
    { schema: { params: EngineParams, querystring: RemoveQuery } },
    async (req) => admin.remove({ engineId: req.params.id, force: req.query.force ?? false }),
  );
}
