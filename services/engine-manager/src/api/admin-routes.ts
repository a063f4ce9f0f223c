import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import {
  DrainReply,
  DrainRequest,
  Id,
  ProvisionReply,
  ProvisionRequest,
  ScaleReply,
  ScaleRequest,
  StopStreamReply,
  UpgradeReply,
  UpgradeRequest,
  AcefleetError,
} from '@acefleet/contracts';
import type { AdminOperations } from './admin.ts';

const IdParams = Type.Object({ id: Id });
const DrainBody = Type.Union([Type.Omit(DrainRequest, ['engineId']), Type.Null()]);
const RemoveQuery = Type.Object({ force: Type.Optional(Type.Boolean()) });

/**
 * The state-changing admin API (the access policy asks for the API key on every one):
 * `POST /api/engines/provision` `{count}`, `POST /api/engines/scale` `{replicas}`,
 * `POST /api/engines/:id/drain` `{deadlineMs?}`, `DELETE /api/engines/:id[?force=true]`,
 * `DELETE /api/streams/:id` (a claim id from GET /api/streams), `POST /api/engines/upgrade` `{image?, hostId?}`.
 */
export function adminRoutes(app: FastifyInstance, admin: AdminOperations): void {
  app.post<{ Body: ProvisionRequest | null }>(
    '/api/engines/provision',
    {
      schema: {
        summary: 'Create engines on this host and wait until they are ready',
        body: Type.Union([ProvisionRequest, Type.Null()]),
        response: { 201: ProvisionReply },
      },
    },
    async (req, reply) => reply.code(201).send(await admin.provision(req.body ?? {})),
  );
  app.post<{ Body: UpgradeRequest | null }>(
    '/api/engines/upgrade',
    {
      schema: {
        summary:
          'Replace every engine (of hostId, or of every host) one at a time, make-before-break, from image (pinned) ' +
          'if given; answers when done. A failure stops it: the reply carries `error` and its status',
        body: Type.Union([UpgradeRequest, Type.Null()]),
        response: { 200: UpgradeReply },
      },
    },
    async (req, reply) => {
      const result = await admin.upgrade(req.body ?? {});
      // A failed upgrade answers its error's status, with what was done before it (the body's `error`).
      const status = result.error ? AcefleetError.fromBody({ error: result.error }).status : 200;
      return reply.code(status).send(result);
    },
  );
  app.post<{ Body: ScaleRequest }>(
    '/api/engines/scale',
    {
      schema: {
        summary:
          'Bring this host to N usable engines now (provision the missing, drain the least loaded surplus)',
        body: ScaleRequest,
        response: { 200: ScaleReply },
      },
    },
    async (req) => admin.scale(req.body),
  );
  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof DrainBody> }>(
    '/api/engines/:id/drain',
    {
      schema: {
        summary: 'Drain an engine: no new streams, its streams move, removed when empty or at the deadline',
        params: IdParams,
        body: DrainBody,
        response: { 200: DrainReply },
      },
    },
    async (req) => admin.drain({ ...req.body, engineId: req.params.id }),
  );
  app.delete<{ Params: Static<typeof IdParams>; Querystring: Static<typeof RemoveQuery> }>(
    '/api/engines/:id',
    {
      schema: {
        summary: 'Remove an engine: drained first, or at once with force=true (its streams end)',
        params: IdParams,
        querystring: RemoveQuery,
        response: { 200: DrainReply },
      },
    },
    async (req) => admin.remove({ engineId: req.params.id, force: req.query.force ?? false }),
  );
  app.delete<{ Params: Static<typeof IdParams> }>(
    '/api/streams/:id',
    {
      schema: {
        summary: 'Stop a stream: the proxy holding it cuts its players off (reason stopped)',
        params: IdParams,
        response: { 200: StopStreamReply },
      },
    },
    async (req) => admin.stopStream(req.params.id),
  );
}
