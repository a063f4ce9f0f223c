import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { AcefleetError } from '@acefleet/contracts';

/** A client over the connection cap should wait this long: connections free up within seconds. */
const RETRY_AFTER_MS = 5000;

/**
 * MAX_CONNECTIONS, answered: connections over the cap are still accepted, so that their first request gets
 * 503 too_many_connections with Retry-After and `Connection: close` (node's own `maxConnections` would only
 * reset them), and the connection is closed after that answer.
 */
export class ConnectionCap {
  private readonly over = new WeakSet<Socket>();
  private open = 0;

  constructor(private readonly max: number) {}

  /** Count the connections `server` accepts from now on. */
  attach(server: Server): void {
    server.on('connection', (socket: Socket) => {
      this.open++;
      if (this.open > this.max) this.over.add(socket);
      socket.once('close', () => this.open--);
    });
  }

  /** The answer for a request on `socket`, when the socket is over the cap. */
  refusal(socket: Socket): AcefleetError | undefined {
    if (!this.over.has(socket)) return undefined;
    return new AcefleetError(
      'too_many_connections',
      `the service has its maximum of ${this.max} connections open`,
      {
        retryAfterMs: RETRY_AFTER_MS,
      },
    );
  }
}
