import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { AcefleetError, DrainReply, Id, StopStreamReply, Subjects, proxySubject } from '@acefleet/contracts';
import { requestJson, type NatsConnection } from '@acefleet/platform';
import type { SessionStore } from '../store.ts';

const IdParams = Type.Object({ id: Id });
type IdParams = Static<typeof IdParams>;

/** How long the manager or proxy has to carry out an action. */
const ACTION_TIMEOUT_MS = 10_000;

/**
 * The dashboard's actions. They are POSTs, so the access policy asks for stats' API key on each; stats then
 * forwards them over NATS (its NATS user may call drain, remove and a proxy's stop, nothing else): the
 * browser never talks to the engine manager or a proxy, and no CORS is needed.
 */
export function actionRoutes(app: FastifyInstance, nc: NatsConnection, sessions: SessionStore): void {
  const schema = { params: IdParams };
  app.post<{ Params: IdParams }>('/api/actions/engines/:id/drain', { schema }, async (req) =>
    requestJson(nc, Subjects.engineDrain, { engineId: req.params.id }, DrainReply, ACTION_TIMEOUT_MS),
  );
  app.post<{ Params: IdParams }>('/api/actions/engines/:id/remove', { schema }, async (req) =>
    requestJson(
      nc,
      Subjects.engineRemove,
      { engineId: req.params.id, force: true },
      DrainReply,
      ACTION_TIMEOUT_MS,
    ),
  );
  app.post<{ Params: IdParams }>('/api/actions/streams/:id/stop', { schema }, async (req) => {
    const session = sessions.get(req.params.id);
    if (!session || session.endedAt) {
      throw new AcefleetError('stream_not_found', `no playing stream ${req.params.id}`);
    }
    const subject = proxySubject(session.proxyId, 'stop');
    return requestJson(nc, subject, { streamId: session.streamId }, StopStreamReply, ACTION_TIMEOUT_MS);
  });
}
