import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
} from 'fastify';
import type { Registry } from 'prom-client';
import { AcefleetError, type ErrorBody } from '@acefleet/contracts';
import type { Logger } from './logger.ts';

/** The HTTP form of a catalogue error: its status, `{"error":{"code","message"}}`, and Retry-After when known. */
export function errorResponse(err: AcefleetError): {
  status: number;
  headers: Record<string, string>;
  body: ErrorBody;
} {
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
  if (err.retryAfterMs !== undefined) {
    headers['retry-after'] = String(Math.max(1, Math.ceil(err.retryAfterMs / 1000)));
  }
  return { status: err.status, headers, body: err.toBody() };
}

export function sendError(reply: FastifyReply, err: AcefleetError): FastifyReply {
  const { status, headers, body } = errorResponse(err);
  return reply.code(status).headers(headers).send(body);
}

/** Turn anything thrown in a route into a catalogue error: validation → bad_request, unknown → internal. */
export function toAcefleetError(err: unknown): AcefleetError {
  if (err instanceof AcefleetError) return err;
  const fe = err as Partial<FastifyError>;
  if (fe.validation) return new AcefleetError('bad_request', fe.message ?? 'bad request');
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new AcefleetError(
      fe.statusCode === 405 ? 'method_not_allowed' : 'bad_request',
      fe.message ?? 'bad request',
    );
  }
  return new AcefleetError('internal', 'internal error', { cause: err });
}

export interface HttpAppOptions {
  logger: Logger;
  registry: Registry;
  /** Extra facts for GET /health; throwing or returning ok:false answers 503. */
  health?: () => { ok: boolean; [k: string]: unknown };
  /** Why the service runs degraded (e.g. `nats: disconnected`); see healthBody. */
  problems?: () => string[];
}

export type HealthStatus = 'ok' | 'degraded' | 'failing';

/**
 * The body of GET /health. A degraded service still answers 200 (`{"ok":true,"status":"degraded",
 * "reasons":[...]}`): it serves what it can and recovers by itself, so an orchestrator must not restart it.
 * Only ok:false (closing, broken) answers 503.
 */
export function healthBody(
  facts: { ok: boolean; [k: string]: unknown },
  reasons: string[],
): { ok: boolean; status: HealthStatus; reasons: string[]; [k: string]: unknown } {
  const status = !facts.ok ? 'failing' : reasons.length > 0 ? 'degraded' : 'ok';
  return { ...facts, status, reasons };
}

/**
 * A fastify app with the parts every acefleet service shares: JSON errors from the catalogue, 404/405 as
 * JSON, GET /health and GET /metrics. Routes are added by the caller; `listen` happens in main.ts only.
 */
export function buildHttpApp(opts: HttpAppOptions): FastifyInstance {
  const loggerInstance: FastifyBaseLogger = opts.logger;
  const app = Fastify({
    loggerInstance,
    disableRequestLogging: true,
    return503OnClosing: true,
  });
  app.setErrorHandler((err, req, reply) => {
    const mapped = toAcefleetError(err);
    if (mapped.code === 'internal') req.log.error({ err }, 'request failed');
    return sendError(reply, mapped);
  });
  app.setNotFoundHandler((req, reply) =>
    sendError(reply, new AcefleetError('not_found', `no route for ${req.method} ${req.url.split('?')[0]}`)),
  );
  app.get('/health', async (_req, reply) => {
    const body = healthBody(opts.health?.() ?? { ok: true }, opts.problems?.() ?? []);
    return reply.code(body.ok ? 200 : 503).send(body);
  });
  app.get('/metrics', async (_req, reply) => {
    return reply.type(opts.registry.contentType).send(await opts.registry.metrics());
  });
  return app;
}

/**
 * Answer 405 (JSON) for the other methods of paths that exist, instead of fastify's plain 404.
 * Call after all routes are registered.
 */
export function rejectOtherMethods(app: FastifyInstance, paths: string[], allowed = ['GET', 'HEAD']): void {
  const others = ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'].filter((m) => !allowed.includes(m));
  for (const url of paths) {
    app.route({
      method: others,
      url,
      handler: async (req, reply) => {
        reply.header('allow', allowed.join(', '));
        return sendError(
          reply,
          new AcefleetError('method_not_allowed', `${req.method} is not allowed on ${url}`),
        );
      },
    });
  }
}
