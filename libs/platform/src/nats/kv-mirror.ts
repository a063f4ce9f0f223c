import { setTimeout as sleep } from 'node:timers/promises';
import { jetstreamManager, type JetStreamManager, type StoredMsg } from '@nats-io/jetstream';
import { Kvm, type KvEntry } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Static, TSchema } from '@sinclair/typebox';
import { compiledParser } from '@acefleet/contracts';
import type { Logger } from '../logger.ts';
import { supervise, type Supervised } from '../supervise.ts';
import { Tombstones } from './tombstones.ts';

/** One key's latest entry, as a snapshot reads it. */
export type KvSnapshotEntry = Pick<KvEntry, 'key' | 'revision' | 'operation' | 'value'>;

/** What a snapshot read, and the bucket's stream sequence it is complete up to (later writes may show too). */
export interface KvSnapshot {
  entries: KvSnapshotEntry[];
  lastSeq: number;
}

/** Reads in flight at once while a snapshot is taken or changes are read (a sliding window). */
const SNAPSHOT_CONCURRENCY = 512;
/** Changes read (and applied) at a time while following. */
const FOLLOW_SLICE = 2048;

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
  let next = 0;
  const reader = async (): Promise<void> => {
    while (next < subjects.length) {
      const entry = await kv.get(subjects[next++]!.slice(prefix.length));
      if (entry) entries.push(entry);
    }
  };
  await Promise.all(Array.from({ length: Math.min(SNAPSHOT_CONCURRENCY, subjects.length) }, reader));
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
  /** How often the bucket is looked at for changes (250 ms by default). */
  pollMs?: number;
}

/**
 * A live local copy of (part of) a KV bucket, for readers that must answer at once (a proxy checking a player
 * token, serving a playlist). start() takes a snapshot (kvSnapshot), then follows every change from the stream
 * sequence the snapshot is complete up to: every `pollMs` it asks for the stream's last sequence and reads
 * the messages since by direct get, so nothing is missed and a change shows within `pollMs`. No watch
 * consumer on purpose, for the reason kvSnapshot gives: a 10 000-channel import would cost nats-server
 * quadratic work for every service user that watches. Entries only move forward: an older revision arriving
 * late is ignored.
 */
export class KvMirror<T extends TSchema> {
  private readonly entries = new Map<string, { value: Static<T>; revision: number }>();
  private readonly deletedAt = new Tombstones();
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

  /** Resolves once the snapshot is loaded (the bucket must exist); following then runs until stop(). */
  async start(): Promise<void> {
    const snapshot = await kvSnapshot(this.nc, this.bucket, this.opts.keys);
    for (const entry of snapshot.entries) this.apply(entry);
    // Follow from where the snapshot is complete: a key written since may have a later entry than the ones read.
    this.lastRevision = snapshot.lastSeq;
    this.watching = supervise(`${this.opts.what} follower`, this.log, (signal) => this.follow(signal));
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
    const known = Math.max(this.entries.get(entry.key)?.revision ?? 0, this.deletedAt.revisionOf(entry.key));
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

  /** Reads what was written after the last revision seen, every `pollMs`, until aborted. */
  private async follow(signal: AbortSignal): Promise<void> {
    const jsm = await jetstreamManager(this.nc);
    const stream = `KV_${this.bucket}`;
    while (!signal.aborted) {
      const { state } = await jsm.streams.info(stream);
      if (state.last_seq > this.lastRevision) await this.readSince(jsm, stream, state.last_seq);
      // An abort ends the pause early: the loop's condition sees it.
      await sleep(this.opts.pollMs ?? 250, undefined, { signal }).catch(() => undefined);
    }
  }

  /**
   * The messages after the last revision seen, up to `lastSeq`, applied in order (superseded ones are gone),
   * a slice at a time: what was read stays read if a later slice fails (the follower then tries again).
   */
  private async readSince(jsm: JetStreamManager, stream: string, lastSeq: number): Promise<void> {
    while (this.lastRevision < lastSeq) {
      const upTo = Math.min(lastSeq, this.lastRevision + FOLLOW_SLICE);
      for (const msg of await this.readRange(jsm, stream, this.lastRevision + 1, upTo)) {
        const operation = msg.header?.get('KV-Operation');
        this.apply({
          key: msg.subject.slice(`$KV.${this.bucket}.`.length),
          revision: msg.seq,
          operation: operation === 'DEL' || operation === 'PURGE' ? operation : 'PUT',
          value: msg.data,
        });
      }
      this.lastRevision = Math.max(this.lastRevision, upTo);
    }
  }

  /** The messages `from`..`to` under this mirror's keys, in sequence order, by direct get. */
  private async readRange(
    jsm: JetStreamManager,
    stream: string,
    from: number,
    to: number,
  ): Promise<StoredMsg[]> {
    const prefix = `$KV.${this.bucket}.`;
    const wanted = this.opts.keys?.endsWith('.>') ? `${prefix}${this.opts.keys.slice(0, -1)}` : prefix;
    const found: StoredMsg[] = [];
    let next = from;
    const reader = async (): Promise<void> => {
      while (next <= to) {
        const msg = await jsm.direct.getMessage(stream, { seq: next++ });
        if (msg?.subject.startsWith(wanted)) found.push(msg);
      }
    };
    await Promise.all(Array.from({ length: Math.min(SNAPSHOT_CONCURRENCY, to - from + 1) }, reader));
    return found.sort((a, b) => a.seq - b.seq);
  }
}
