import type { ServerResponse } from 'node:http';
import { AcefleetError } from '@acefleet/contracts';
import { errorResponse, type Logger } from '@acefleet/platform';

export interface LiveLimits {
  /** Dashboards following at once; one more is answered 503 with Retry-After. */
  maxClients: number;
  /** Bytes a dashboard may leave unread; past it the dashboard is dropped (it reconnects when it can read). */
  maxBacklogBytes: number;
  /** A comment line this often keeps idle connections (and proxies between) open. */
  heartbeatMs?: number;
}

/** How long a dashboard refused for lack of room should wait: its EventSource retries by itself. */
const FULL_RETRY_AFTER_MS = 10_000;

/**
 * Server-Sent Events to every open dashboard: each stored event (and each engine record change) is pushed
 * as it happens. The number of dashboards is capped, and one that does not read is dropped rather than
 * buffered without bound.
 */
export class LiveFeed {
  private readonly clients = new Set<ServerResponse>();
  private readonly heartbeat: NodeJS.Timeout;
  private nextId = 0;

  constructor(
    private readonly limits: LiveLimits,
    private readonly log: Logger,
  ) {
    this.heartbeat = setInterval(() => this.broadcast(': keep-alive\n\n'), limits.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  /**
   * Take over a response and keep it open until the client goes away or the feed closes; when the feed is
   * full, answer it 503 (catalogue JSON, Retry-After) instead.
   */
  attach(res: ServerResponse): void {
    if (this.clients.size >= this.limits.maxClients) {
      const full = new AcefleetError(
        'too_many_live_clients',
        `the live feed has its maximum of ${this.limits.maxClients} clients`,
        { retryAfterMs: FULL_RETRY_AFTER_MS },
      );
      const { status, headers, body } = errorResponse(full);
      res.writeHead(status, headers).end(JSON.stringify(body));
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    // HEAD has no body: node would hold the headers back until end(), leaving the client with no answer.
    if (res.req.method === 'HEAD') {
      res.end();
      return;
    }
    this.clients.add(res);
    res.on('close', () => this.clients.delete(res));
    this.write(res, 'retry: 2000\n\n');
  }

  send(event: string, data: unknown): void {
    if (this.clients.size === 0) return;
    this.broadcast(`id: ${++this.nextId}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  private broadcast(frame: string): void {
    for (const res of this.clients) this.write(res, frame);
  }

  /** Write a frame, or drop the client if what it left unread is over the bound. */
  private write(res: ServerResponse, frame: string): void {
    res.write(frame);
    if (res.writableLength <= this.limits.maxBacklogBytes) return;
    this.log.info({ backlogBytes: res.writableLength }, 'dropping a live client that does not read');
    this.clients.delete(res);
    res.destroy();
  }

  close(): void {
    clearInterval(this.heartbeat);
    for (const res of this.clients) res.end();
    this.clients.clear();
  }
}
