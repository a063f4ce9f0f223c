import { STATUS_CODES, type IncomingMessage, type Server, type ServerOptions } from 'node:http';
import type { Duplex } from 'node:stream';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyHttpOptions,
  type FastifyInstance,
  type FastifyReply,
} from 'fastify';
import type { Registry } from 'prom-client';
import { AcefleetError, type ErrorBody } from '@acefleet/contracts';
import { ConnectionCap } from './connection-cap.ts';
import { applyAccessPolicy, type AccessOptions } from './http-auth.ts';
import type { Logger } from '../logger.ts';
import { serveOpenApi, type OpenApiInfo } from './openapi.ts';

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

/** How deep a body is searched for non-finite numbers (acefleet bodies are flat; deeper is refused too). */
const MAX_NUMBER_DEPTH = 8;

/**
 * Ajv coerces "1e309" and "Infinity" (and JSON.parse reads a literal 1e309) to Infinity, and then skips
 * minimum/maximum for non-finite numbers: `limit=1e309` passed a `maximum: 1000` schema and reached SQLite (a
 * 500), `{"count":"1e309"}` provisioned up to MAX_REPLICAS. Runs after validation, on query, path and body.
 */
function rejectNonFiniteNumbers(value: unknown, name = '', depth = 0): void {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new AcefleetError('bad_request', `"${name}" must be a finite number`);
  }
  if (typeof value !== 'object' || value === null) return;
  if (depth > MAX_NUMBER_DEPTH) throw new AcefleetError('bad_request', 'the body is nested too deeply');
  for (const [key, inner] of Object.entries(value)) {
    rejectNonFiniteNumbers(inner, name ? `${name}.${key}` : key, depth + 1);
  }
}

export interface HttpAppOptions {
  logger: Logger;
  registry: Registry;
  /** Who may call what (see http-auth.ts): the service's config, plus the prefixes it leaves open. */
  access: AccessOptions;
  /** Extra facts for GET /health; throwing or returning ok:false answers 503. */
  health?: () => { ok: boolean; [k: string]: unknown };
  /** Limits of the HTTP server itself; unset: node's and fastify's defaults. */
  limits?: HttpServerLimits;
  /** Why the service runs degraded (e.g. `nats: disconnected`); see healthBody. */
  problems?: () => string[];
  /** Set: every route is documented at GET /api/openapi.json (see openapi.ts). */
  openApi?: OpenApiInfo;
  /**
   * Comma-separated addresses or CIDRs of reverse proxies: their X-Forwarded-For names the client (req.ip),
   * their X-Forwarded-Proto and -Host the scheme and host (fastify's trustProxy). Empty: nobody's.
   */
  trustProxy?: string;
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

export interface HttpServerLimits {
  /** Request line plus headers (node's maxHeaderSize); larger answers 431 headers_too_large. */
  maxHeaderBytes: number;
  /**
   * Time to receive a whole request (node's headersTimeout and requestTimeout); then 408 request_timeout.
   * It ends when the request is read, so long (streaming) responses are not cut by it.
   */
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** Open connections at most (see ConnectionCap). */
  maxConnections: number;
}

/** Errors node reports before a request exists (bad or slow request heads), answered from the catalogue. */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const code =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? 'request_timeout'
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? 'headers_too_large'
        : 'bad_request';
  answerOnSocket(socket, new AcefleetError(code, err.message));
}

/** Answer a catalogue error straight on the socket (no request object exists), then close it. */
function answerOnSocket(socket: Duplex, err: AcefleetError, extra: Record<string, string> = {}): void {
  const { status, headers, body } = errorResponse(err);
  const json = JSON.stringify(body);
  const fields = { ...headers, ...extra, 'content-length': Buffer.byteLength(json), connection: 'close' };
  const head = Object.entries(fields)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  if (socket.writable) socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${head}\r\n${json}`);
  socket.destroy();
}

/**
 * CONNECT never reaches fastify: node hands it to the server's `connect` listeners and, with none, closes
 * the socket without a word. No acefleet service is a forward proxy, so it gets a 405 like any other method
 * no route takes; the connection then closes, since what follows the head would be tunnel bytes.
 */
export function refuseConnect(_req: IncomingMessage, socket: Duplex): void {
  const err = new AcefleetError('method_not_allowed', 'CONNECT is not supported: no tunnels are opened');
  // An empty Allow: the tunnel CONNECT names allows no method here (RFC 9110, 10.2.1).
  answerOnSocket(socket, err, { allow: '' });
}

/** The node http server options that enforce `limits` (header size, request-head and request timeouts). */
export function nodeServerOptions(limits: HttpServerLimits): ServerOptions {
  return {
    maxHeaderSize: limits.maxHeaderBytes,
    headersTimeout: limits.requestTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // node checks both timeouts on this tick (30 s by default, too coarse for a 10 s limit)
    connectionsCheckingInterval: Math.min(1000, limits.requestTimeoutMs),
  };
}

function serverOptions(limits: HttpServerLimits | undefined): FastifyHttpOptions<Server> {
  if (!limits) return {};
  return {
    http: nodeServerOptions(limits),
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    clientErrorHandler,
  };
}

/** Answer requests over the connection cap of the app's own server (an app that listens itself). */
function capConnections(app: FastifyInstance, max: number): void {
  const cap = new ConnectionCap(max);
  cap.attach(app.server);
  app.addHook('onRequest', async (req, reply) => {
    const refusal = cap.refusal(req.raw.socket);
    if (!refusal) return;
    reply.header('connection', 'close');
    throw refusal;
  });
}

/**
 * A fastify app with the parts every acefleet service shares: the access policy, JSON errors from the
 * catalogue, 404/405 as JSON, GET /health (open to anyone: orchestrators probe it) and GET /metrics (a read). Routes are added by the caller; `listen` happens in main.ts only.
 */
export function buildHttpApp(opts: HttpAppOptions): FastifyInstance {
  const loggerInstance: FastifyBaseLogger = opts.logger;
  const app = Fastify({
    loggerInstance,
    disableRequestLogging: true,
    return503OnClosing: true,
    ...(opts.trustProxy ? { trustProxy: opts.trustProxy } : {}),
    ...serverOptions(opts.limits),
  });
  app.server.on('connect', refuseConnect);
  if (opts.limits) capConnections(app, opts.limits.maxConnections);
  applyAccessPolicy(app, opts.access);
  if (opts.openApi) serveOpenApi(app, opts.openApi, opts.access.openPaths ?? []);
  app.setErrorHandler((err, req, reply) => {
    const mapped = toAcefleetError(err);
    if (mapped.code === 'internal') req.log.error({ err }, 'request failed');
    return sendError(reply, mapped);
  });
  app.addHook('preHandler', async (req) => {
    for (const part of [req.query, req.params, req.body]) rejectNonFiniteNumbers(part);
  });
  app.setNotFoundHandler((req, reply) =>
    sendError(reply, new AcefleetError('not_found', `no route for ${req.method} ${req.url.split('?')[0]}`)),
  );
  app.get('/health', { config: { access: 'open' } }, async (_req, reply) => {
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
      // Only ever answers 405, so no key is needed to learn that.
      config: { access: 'open' },
      schema: { hide: true },
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
