import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm, type KV, type KvEntry } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Static, TSchema } from '@sinclair/typebox';
import { compiledParser } from '@acefleet/contracts';
import type { Logger } from './logger.ts';
import { supervise, type Supervised } from './supervise.ts';

/** One key's latest entry, as a snapshot reads it. */
export type KvSnapshotEntry = Pick<KvEntry, 'key' | 'revision' | 'operation' | 'value'>;

/** What a snapshot read, and the bucket's stream sequence it is complete up to (later writes may show too). */
export interface KvSnapshot {
  entries: KvSnapshotEntry[];
  lastSeq: number;
}

/** Reads in flight at once while a snapshot is taken. */
const SNAPSHOT_CONCURRENCY = 128;

/**
 * The latest entry of every key of a bucket under `keys` (a subject-style filter; all by default), deletions
 * included, as of the moment it is called. The keys come from the stream's subject list and each value from
 * a direct get (10 000 keys in about a second). No consumer is used on purpose: every message a consumer
 * delivers carries a reply subject, and nats-server keeps one response permission per such message for a
 * service user (allow_responses) and scans them all on each delivery, so a 10 000-message read turns
 * quadratic (seconds, growing with every read).
 */
export async function kvSnapshot(nc: NatsConnection, bucket: string, keys = '>'): Promise<KvSnapshot> {
  const prefix = `$KV.${bucket}.`;
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(`KV_${bucket}`, { subjects_filter: `${prefix}${keys}` });
  const subjects = Object.keys(info.state.subjects ?? {});
  const kv = await new Kvm(nc).open(bucket);
  const entries: KvSnapshotEntry[] = [];
  for (let i = 0; i < subjects.length; i += SNAPSHOT_CONCURRENCY) {
    const batch = subjects.slice(i, i + SNAPSHOT_CONCURRENCY);
    for (const entry of await Promise.all(batch.map((s) => kv.get(s.slice(prefix.length))))) {
      if (entry) entries.push(entry);
    }
  }
  return { entries, lastSeq: info.state.last_seq };
}

export interface KvMirrorOptions<T extends TSchema> {
  /** The keys to mirror (a subject-style filter, e.g. `ch.>`); all by default. */
  keys?: string;
  schema: T;
  /** What a value is, for the log line that skips a malformed one. */
  what: string;
  /** Told after every change (the key, and its value or undefined once deleted). */
  onChange?: (key: string, value: Static<T> | undefined) => void;
}

/**
 * A live local copy of (part of) a KV bucket, for readers that must answer at once (a proxy checking a player
 * token, serving a playlist). start() takes a snapshot (kvSnapshot), then follows every change
 * from the stream sequence the snapshot began at, so nothing written meanwhile is missed; a watch that fails
 * is resumed from the last revision seen. Entries only move forward: an older revision arriving late is ignored.
 */
export class KvMirror<T extends TSchema> {
  private readonly entries = new Map<string, { value: Static<T>; revision: number }>();
  private readonly deletedAt = new Map<string, number>();
  private lastRevision = 0;
  private watching: Supervised | undefined;
  private changes = 0;

  private readonly parse: (value: unknown) => Static<T>;

  constructor(
    private readonly nc: NatsConnection,
    private readonly bucket: string,
    private readonly log: Logger,
    private readonly opts: KvMirrorOptions<T>,
  ) {
    this.parse = compiledParser(opts.schema, opts.what);
  }

  /** Resolves once the snapshot is loaded (the bucket must exist); the watch then runs until stop(). */
  async start(): Promise<void> {
    const kv = await new Kvm(this.nc).open(this.bucket);
    const snapshot = await kvSnapshot(this.nc, this.bucket, this.opts.keys);
    for (const entry of snapshot.entries) this.apply(entry);
    // Follow from where the snapshot is complete: a key written since may have a later entry than the ones read.
    this.lastRevision = snapshot.lastSeq;
    this.watching = supervise(`${this.opts.what} watch`, this.log, (signal) => this.follow(kv, signal));
  }

  async stop(): Promise<void> {
    await this.watching?.stop();
  }

  get(key: string): Static<T> | undefined {
    return this.entries.get(key)?.value;
  }

  /** Every key with its value. */
  *entriesByKey(): IterableIterator<[string, Static<T>]> {
    for (const [key, e] of this.entries) yield [key, e.value];
  }

  values(): Static<T>[] {
    return [...this.entries.values()].map((e) => e.value);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Grows with every change applied: a cache built from the values is stale once this moved on. */
  get version(): number {
    return this.changes;
  }

  /** Apply an entry read from, or written to, the bucket. */
  apply(entry: Pick<KvEntry, 'key' | 'revision' | 'operation' | 'value'>): void {
    this.lastRevision = Math.max(this.lastRevision, entry.revision);
    const known = Math.max(this.entries.get(entry.key)?.revision ?? 0, this.deletedAt.get(entry.key) ?? 0);
    if (entry.revision <= known) return;
    if (entry.operation !== 'PUT') {
      this.deletedAt.set(entry.key, entry.revision);
      if (this.entries.delete(entry.key)) this.changed(entry.key, undefined);
      return;
    }
    try {
      const value = this.parse(JSON.parse(new TextDecoder().decode(entry.value)));
      this.entries.set(entry.key, { value, revision: entry.revision });
      this.deletedAt.delete(entry.key);
      this.changed(entry.key, value);
    } catch (err) {
      this.log.warn({ err, key: entry.key }, `ignoring malformed ${this.opts.what}`);
    }
  }

  private changed(key: string, value: Static<T> | undefined): void {
    this.changes++;
    this.opts.onChange?.(key, value);
  }

  /** Follows the changes after the last revision seen; throws when the watch ends by itself (to be resumed). */
  private async follow(kv: KV, signal: AbortSignal): Promise<void> {
    const watcher = await kv.watch({
      ...(this.opts.keys ? { key: this.opts.keys } : {}),
      resumeFromRevision: this.lastRevision + 1,
    });
    const stop = (): void => void watcher.stop();
    signal.addEventListener('abort', stop, { once: true });
    if (signal.aborted) stop();
    for await (const entry of watcher) this.apply(entry);
    signal.removeEventListener('abort', stop);
    if (!signal.aborted) throw new Error(`${this.opts.what} watch ended`);
  }
}
