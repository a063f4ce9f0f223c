import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { AcefleetError } from '@acefleet/contracts';

export interface RequestLimits {
  maxUrlLength: number;
  maxConnections: number;
}

/** A client over the connection cap should wait this long: connections free up as players leave. */
const RETRY_AFTER_MS = 5000;

/**
 * Limits every request meets before its route: the length of its target (414), and the connection cap.
 * Connections over the cap are still accepted, so that their first request can be answered 503 with
 * Retry-After (node's own `maxConnections` would only reset them); the connection is closed after that answer.
 */
export function requestLimits(app: FastifyInstance, limits: RequestLimits): void {
  const overCap = new WeakSet<Socket>();
  let open = 0;
  app.server.on('connection', (socket: Socket) => {
    open++;
    if (open > limits.maxConnections) overCap.add(socket);
    socket.once('close', () => open--);
  });
  app.addHook('onRequest', async (req, reply) => {
    if (overCap.has(req.raw.socket)) {
      reply.header('connection', 'close');
      throw new AcefleetError(
        'too_many_connections',
        `the proxy has its maximum of ${limits.maxConnections} connections open`,
        { retryAfterMs: RETRY_AFTER_MS },
      );
    }
    if (req.raw.url !== undefined && req.raw.url.length > limits.maxUrlLength) {
      throw new AcefleetError('url_too_long', `the URL is longer than ${limits.maxUrlLength} bytes`);
    }
  });
}
