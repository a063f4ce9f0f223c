import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { AcefleetError } from '@acefleet/contracts';
import { errorResponse, healthBody, refuseConnect } from './http.ts';

export interface HttpFront {
  /** `http://host:port` the front listens on. */
  address: string;
  /** From now on every request goes to `app` (its /health included). */
  mount(app: FastifyInstance): Promise<void>;
  /** Close the listener and every open connection (the mounted app is closed by its owner). */
  close(): Promise<void>;
}

/**
 * Holds a service's port from the first moment, before the app that needs NATS can be built: until an app
 * is mounted, GET /health answers 200 degraded with `problems()` and every other request 503
 * control_plane_unavailable; then requests are routed to the app, on the same port and connections.
 */
export async function listenFront(opts: {
  host: string;
  port: number;
  problems: () => string[];
}): Promise<HttpFront> {
  let app: FastifyInstance | undefined;
  const waiting = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method === 'GET' && req.url?.split('?')[0] === '/health') {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(healthBody({ ok: true }, opts.problems())));
      return;
    }
    const err = new AcefleetError('control_plane_unavailable', 'starting: waiting for NATS', {
      retryAfterMs: 5000,
    });
    const { status, headers, body } = errorResponse(err);
    res.writeHead(status, headers);
    res.end(JSON.stringify(body));
  };
  const server = createServer((req, res) => (app ? app.routing(req, res) : waiting(req, res)));
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
