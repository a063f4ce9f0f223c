import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { AcefleetError } from '@acefleet/contracts';
import { ConnectionCap } from './connection-cap.ts';
import {
  clientErrorHandler,
  errorResponse,
  healthBody,
  nodeServerOptions,
  refuseConnect,
  type HttpServerLimits,
} from './http.ts';

export interface HttpFront {
  /** `http://host:port` the front listens on. */
  address: string;
  /** From now on every request goes to `app` (its /health included). */
  mount(app: FastifyInstance): Promise<void>;
  /** Close the listener and every open connection (the mounted app is closed by its owner). */
  close(): Promise<void>;
}

/** Answer a catalogue error on a response the front writes itself. */
function answer(res: ServerResponse, err: AcefleetError, extra: Record<string, string> = {}): void {
  const { status, headers, body } = errorResponse(err);
  res.writeHead(status, { ...headers, ...extra });
  res.end(JSON.stringify(body));
}

/**
 * Holds a service's port from the first moment, before the app that needs NATS can be built: until an app
 * is mounted, GET /health answers 200 degraded with `problems()` and every other request 503
 * control_plane_unavailable; then requests are routed to the app, on the same port and connections. The
 * server itself enforces `limits` for every request, mounted app or not: header size, the time to send a
 * request head (408), idle keep-alive, and the connection cap (503).
 */
export async function listenFront(opts: {
  host: string;
  port: number;
  problems: () => string[];
  limits: HttpServerLimits;
}): Promise<HttpFront> {
  let app: FastifyInstance | undefined;
  const cap = new ConnectionCap(opts.limits.maxConnections);
  const waiting = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method === 'GET' && req.url?.split('?')[0] === '/health') {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(healthBody({ ok: true }, opts.problems())));
      return;
    }
    answer(
      res,
      new AcefleetError('control_plane_unavailable', 'starting: waiting for NATS', { retryAfterMs: 5000 }),
    );
  };
  const server = createServer(nodeServerOptions(opts.limits), (req, res) => {
    const refusal = cap.refusal(req.socket);
    if (refusal) answer(res, refusal, { connection: 'close' });
    else if (app) app.routing(req, res);
    else waiting(req, res);
  });
  server.keepAliveTimeout = opts.limits.keepAliveTimeoutMs;
  cap.attach(server);
  // Bad or slow request heads are answered from the catalogue (408, 431, 400), as the proxy does.
  server.on('clientError', clientErrorHandler);
  // CONNECT is emitted on the server, never routed: the mounted app's own listener does not see it.
  server.on('connect', refuseConnect);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    address: `http://${opts.host}:${port}`,
    async mount(next) {
      await next.ready();
      app = next;
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
