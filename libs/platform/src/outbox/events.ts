import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logger.ts';
import { encodeJson } from '../nats/nats.ts';
import { OutboxFile, type OutboxEntry } from './outbox-file.ts';

interface PendingEvent {
  entry: OutboxEntry;
  data: Uint8Array;
}

export interface EventPublisherOptions {
  /** The outbox holds at most this many events... */
  maxPending: number;
  /** ...and this many bytes of payload; past either bound the oldest event is dropped (and logged). */
  maxPendingBytes: number;
  retryMs: number;
  timeoutMs: number;
  /** Keep the outbox on disk too, `<name>.<pid>.jsonl` under `dir`, so a restart replays what was left. */
  durable?: { dir: string; name: string };
}

const defaults: EventPublisherOptions = {
  maxPending: 100_000,
  maxPendingBytes: 64 * 1024 * 1024,
  retryMs: 500,
  timeoutMs: 2000,
};

/** A file holding more stored lines than this (beyond twice the pending ones) is rewritten. */
const COMPACT_SLACK = 1000;

/**
 * Publishes durable events in order, each with a message id so JetStream stores it exactly once. An event
 * that cannot be published now (NATS down, no stream) waits in a bounded outbox and is retried until stored;
 * events published while others wait queue behind them, so order is kept. With `durable`, the outbox is also
 * on disk and the events a previous process left there are published first, with their original ids.
 */
export class EventPublisher {
  private readonly outbox: PendingEvent[] = [];
  private pendingBytes = 0;
  private flushing: Promise<void> | undefined;
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private readonly opts: EventPublisherOptions;
  private readonly file: OutboxFile | undefined;

  /** Without a connection yet, events wait in the outbox (and its file) until attach(). */
  constructor(
    nc: NatsConnection | undefined,
    private readonly log: Logger,
    opts: Partial<EventPublisherOptions> = {},
  ) {
    this.opts = { ...defaults, ...opts };
    if (this.opts.durable) {
      const { file, left } = OutboxFile.open(this.opts.durable.dir, this.opts.durable.name, log);
      this.file = file;
      for (const entry of left) this.enqueue(entry);
    }
    if (nc) this.attach(nc);
  }

  /** Publish over `nc` from now on, starting with what waits in the outbox. */
  attach(nc: NatsConnection): void {
    this.nc = nc;
    this.js = jetstream(nc, { timeout: this.opts.timeoutMs });
    this.kick();
  }

  get pending(): number {
    return this.outbox.length;
  }

  publish(subject: string, payload: unknown, msgId: string): void {
    const entry: OutboxEntry = { subject, msgId, at: Date.now(), payload };
    if (this.file && !this.file.append(entry)) {
      this.log.warn({ subject }, 'event published after the outbox closed: kept in memory only');
    }
    this.enqueue(entry);
    this.kick();
  }

  /** Wait until every queued event is stored, or `timeoutMs` passes. Returns how many are still queued. */
  async drain(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.outbox.length > 0 && Date.now() < deadline) await sleep(50);
    return this.outbox.length;
  }

  /** Sync and close the outbox file (what is still queued stays there for the next process). */
  close(): void {
    if (this.outbox.length > 0) this.log.warn({ pending: this.outbox.length }, 'events left in the outbox');
    this.file?.close();
  }

  private enqueue(entry: OutboxEntry): void {
    const data = encodeJson(entry.payload);
    this.outbox.push({ entry, data });
    this.pendingBytes += data.length;
    while (
      this.outbox.length > this.opts.maxPending ||
      (this.pendingBytes > this.opts.maxPendingBytes && this.outbox.length > 1)
    ) {
      const dropped = this.shift();
      this.log.error({ subject: dropped.entry.subject }, 'event outbox full: dropped the oldest event');
    }
  }

  private shift(): PendingEvent {
    const first = this.outbox.shift()!;
    this.pendingBytes -= first.data.length;
    return first;
  }

  private kick(): void {
    if (this.outbox.length > 0) this.flushing ??= this.flush().finally(() => (this.flushing = undefined));
  }

  private async flush(): Promise<void> {
    let failures = 0;
    // Once the connection is closed for good nothing can be published; what is left is reported by drain().
    while (this.outbox.length > 0 && this.js && !this.nc?.isClosed()) {
      const next = this.outbox[0]!;
      try {
        await this.js.publish(next.entry.subject, next.data, { msgID: next.entry.msgId });
        // A full outbox may have dropped it meanwhile.
        if (this.outbox[0] === next) this.shift();
        this.compact();
        failures = 0;
      } catch (err) {
        if (failures++ === 0)
          this.log.warn({ err, pending: this.outbox.length }, 'event publish failed; will retry');
        await sleep(this.opts.retryMs);
      }
    }
  }

  /** Empty the file when nothing waits; rewrite it when it holds mostly events already stored or dropped. */
  private compact(): void {
    const file = this.file;
    if (!file) return;
    if (this.outbox.length === 0) file.rewrite([]);
    else if (file.size > 2 * this.outbox.length + COMPACT_SLACK)
      file.rewrite(this.outbox.map((p) => p.entry));
  }
}
