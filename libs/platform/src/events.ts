import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from './logger.ts';
import { encodeJson } from './nats.ts';

interface PendingEvent {
  subject: string;
  data: Uint8Array;
  msgId: string;
}

/**
 * Publishes durable events in order, each with a message id so JetStream stores it exactly once. An event
 * that cannot be published now (NATS down, no stream) waits in a bounded outbox and is retried until stored;
 * events published while others wait queue behind them, so order is kept.
 */
export class EventPublisher {
  private readonly outbox: PendingEvent[] = [];
  private flushing: Promise<void> | undefined;
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;

  /** Without a connection yet, events wait in the outbox until attach(). */
  constructor(
    nc: NatsConnection | undefined,
    private readonly log: Logger,
    private readonly opts: { maxPending: number; retryMs: number; timeoutMs: number } = {
      maxPending: 100_000,
      retryMs: 500,
      timeoutMs: 2000,
    },
  ) {
    if (nc) this.attach(nc);
  }

  /** Publish over `nc` from now on, starting with what waits in the outbox. */
  attach(nc: NatsConnection): void {
    this.nc = nc;
    this.js = jetstream(nc, { timeout: this.opts.timeoutMs });
    this.flushing ??= this.flush().finally(() => (this.flushing = undefined));
  }

  get pending(): number {
    return this.outbox.length;
  }

  publish(subject: string, payload: unknown, msgId: string): void {
    if (this.outbox.length >= this.opts.maxPending) {
      this.outbox.shift();
      this.log.error({ subject }, 'event outbox full: dropped the oldest event');
    }
    this.outbox.push({ subject, data: encodeJson(payload), msgId });
    this.flushing ??= this.flush().finally(() => (this.flushing = undefined));
  }

  /** Wait until every queued event is stored, or `timeoutMs` passes. Returns how many are still queued. */
  async drain(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.outbox.length > 0 && Date.now() < deadline) await sleep(50);
    return this.outbox.length;
  }

  private async flush(): Promise<void> {
    let failures = 0;
    // Once the connection is closed for good nothing can be published; what is left is reported by drain().
    while (this.outbox.length > 0 && this.js && !this.nc?.isClosed()) {
      const next = this.outbox[0]!;
      try {
        await this.js.publish(next.subject, next.data, { msgID: next.msgId });
        this.outbox.shift();
        failures = 0;
      } catch (err) {
        if (failures++ === 0)
          this.log.warn({ err, pending: this.outbox.length }, 'event publish failed; will retry');
        await sleep(this.opts.retryMs);
      }
    }
  }
}
