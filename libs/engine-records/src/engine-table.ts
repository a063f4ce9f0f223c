import type { KV, KvEntry } from '@nats-io/kv';
import { EngineRecord, parseMessage } from '@acefleet/contracts';
import { supervise, Tombstones, type Logger, type Supervised } from '@acefleet/platform';

export interface VersionedEngine {
  record: EngineRecord;
  revision: number;
}

/**
 * A live local copy of the engines KV bucket: loaded once, then kept current by a watch. Entries only move
 * forward (a replayed older revision is ignored), so local writes and the watch can be applied in any order.
 */
export class EngineTable {
  private readonly engines = new Map<string, VersionedEngine>();
  private readonly deletedAt = new Tombstones();
  private watching: Supervised | undefined;

  constructor(
    readonly kv: KV,
    private readonly log: Logger,
    private readonly onChange: (id: string, engine: VersionedEngine | undefined) => void = () => {},
  ) {}

  async start(): Promise<void> {
    const keys = await this.kv.keys();
    for await (const key of keys) {
      const entry = await this.kv.get(key);
      if (entry) this.apply(entry);
    }
    // A restarted watch replays the bucket's current entries, which apply() takes or ignores by revision.
    this.watching = supervise('engines watch', this.log, async (signal) => {
      const watcher = await this.kv.watch();
      signal.addEventListener('abort', () => watcher.stop(), { once: true });
      if (signal.aborted) watcher.stop();
      for await (const entry of watcher) this.apply(entry);
    });
  }

  /** Stops the watch at once (the abort is synchronous; its loop ends on its own). */
  stop(): void {
    void this.watching?.stop();
  }

  /** Apply an entry read from or written to the bucket. */
  apply(entry: Pick<KvEntry, 'key' | 'revision' | 'operation' | 'value'>): void {
    const current = this.engines.get(entry.key);
    const known = Math.max(current?.revision ?? 0, this.deletedAt.revisionOf(entry.key));
    if (entry.revision <= known) return;
    if (entry.operation !== 'PUT') {
      this.deletedAt.set(entry.key, entry.revision);
      // A delete of a key already gone (a restarted watch replays its marker) is no news.
      if (this.engines.delete(entry.key)) this.onChange(entry.key, undefined);
      return;
    }
    try {
      const record = parseMessage(
        EngineRecord,
        JSON.parse(new TextDecoder().decode(entry.value)),
        'engine record',
      );
      const next = { record, revision: entry.revision };
      this.engines.set(entry.key, next);
      this.onChange(entry.key, next);
    } catch (err) {
      this.log.warn({ err, key: entry.key }, 'ignoring malformed engine record');
    }
  }

  get(id: string): VersionedEngine | undefined {
    return this.engines.get(id);
  }

  all(): VersionedEngine[] {
    return [...this.engines.values()];
  }

  records(): EngineRecord[] {
    return this.all().map((e) => e.record);
  }
}
