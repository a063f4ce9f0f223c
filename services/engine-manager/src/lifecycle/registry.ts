import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import type { EngineTable, VersionedEngine } from '@acefleet/engine-records';
import { encodeJson, type Logger } from '@acefleet/platform';
import type { EngineRecord } from '@acefleet/contracts';
import { assertEntry, IllegalEngineMove, moved, type EngineMove } from './transitions.ts';
import { KeyedLock } from '../lock.ts';

const MAX_CAS_ATTEMPTS = 50;

/**
 * Whether `id` can be a key of the engines bucket (nats.js refuses any other with an error). Ids come from
 * requests too: one that cannot be a key names no engine (found by the bus fuzz: `\u0000` in a drain's
 * engine id answered `internal`).
 */
function isBucketKey(id: string): boolean {
  return /^[-/=.\w]+$/.test(id) && !id.startsWith('.') && !id.endsWith('.');
}

/** A write lost a compare-and-set race (someone else wrote the record since we read it). */
export function isConflict(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamWrongLastSequence ||
      err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

/** A write to a record of another host: its manager is the only writer of its records (docs/scaling.md). */
export class ForeignRecordWrite extends Error {
  override readonly name = 'ForeignRecordWrite';
  constructor(
    readonly engineId: string,
    readonly hostId: string,
  ) {
    super(`engine ${engineId} belongs to host ${hostId}: only its manager writes its record`);
  }
}

/**
 * This host's engine records (each host's manager writes only its own: ForeignRecordWrite), with
 * compare-and-set writes: every change is computed from the revision it was read at and
 * written only if nobody changed the record meanwhile, so concurrent acquires (from any manager) never
 * double-book an engine. Only conflicts are retried; any other failure (NATS down) is thrown.
 *
 * This process writes one record at a time (`writing`): a clustered bucket (JS_REPLICAS > 1) checks the
 * expected revision before proposing a write, not when applying it, so two writes in flight on one key
 * that name the same revision may both be accepted, the second dropping what the first added (nats-server
 * issue 4320; every time in a probe on the 2.9.10 used here; fixed in 2.9.21). Concurrent claims on one
 * engine then lost claims that their proxies went on using (the scale run's "claims missing").
 */
export class EngineRegistry {
  private readonly writing = new KeyedLock();

  constructor(
    readonly table: EngineTable,
    private readonly hostId: string,
    private readonly log: Logger,
  ) {}

  create(record: EngineRecord): Promise<VersionedEngine> {
    this.assertOwn(record);
    assertEntry(record);
    return this.writing.run(record.id, async () => {
      const revision = await this.table.kv.create(record.id, encodeJson(record));
      return this.remember(record, revision);
    });
  }

  /**
   * Change one record but its state: `change` gets a copy of the current record and returns the new one, or
   * undefined to leave it. Returns the stored result (undefined when the record does not exist). A change of
   * `state` throws: states move through `transition` only.
   */
  mutate(
    id: string,
    change: (current: EngineRecord) => EngineRecord | undefined,
  ): Promise<VersionedEngine | undefined> {
    return this.writing.run(id, () =>
      this.mutateNow(id, (current) => {
        const next = change(current);
        if (next && next.state !== current.state) throw new IllegalEngineMove(id, current.state, next.state);
        return next;
      }),
    );
  }

  /**
   * The one writer of an engine's `state`: the move the lifecycle table allows (lifecycle.ts), applied by
   * compare-and-set on the current record, logged. Returns the stored record (moved or not: a record in none
   * of `move.from` stays as it is), undefined when there is no such engine.
   */
  transition(id: string, move: EngineMove): Promise<VersionedEngine | undefined> {
    let from: EngineRecord['state'] | undefined;
    return this.writing.run(id, async () => {
      const stored = await this.mutateNow(id, (current) => {
        from = current.state;
        return moved(current, move);
      });
      if (stored && from !== undefined && stored.record.state === move.to && from !== move.to) {
        const { reason } = move;
        this.log.info({ engineId: id, from, to: move.to, ...(reason ? { reason } : {}) }, 'engine state');
      }
      return stored;
    });
  }

  private async mutateNow(
    id: string,
    change: (current: EngineRecord) => EngineRecord | undefined,
  ): Promise<VersionedEngine | undefined> {
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const current = attempt === 0 ? this.table.get(id) : await this.reload(id);
      if (!current) return attempt === 0 ? this.mutateFresh(id, change) : undefined;
      this.assertOwn(current.record);
      const next = change(structuredClone(current.record));
      if (!next) return current;
      next.updatedAt = new Date().toISOString();
      try {
        const revision = await this.table.kv.update(id, encodeJson(next), current.revision);
        return this.remember(next, revision);
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
    }
    throw new Error(`engine ${id}: too much write contention`);
  }

  /** The local copy may not have seen a record just created elsewhere: read it once before giving up. */
  private async mutateFresh(
    id: string,
    change: (current: EngineRecord) => EngineRecord | undefined,
  ): Promise<VersionedEngine | undefined> {
    return (await this.reload(id)) ? this.mutateNow(id, change) : undefined;
  }

  /** The lifecycle's last step, legal from every state: the record goes. */
  remove(id: string): Promise<void> {
    const known = this.table.get(id)?.record;
    if (known) this.assertOwn(known);
    return this.writing.run(id, async () => {
      await this.table.kv.delete(id);
      await this.reload(id);
    });
  }

  private assertOwn(record: EngineRecord): void {
    if (record.hostId !== this.hostId) throw new ForeignRecordWrite(record.id, record.hostId);
  }

  private async reload(id: string): Promise<VersionedEngine | undefined> {
    if (!isBucketKey(id)) return undefined;
    const entry = await this.table.kv.get(id);
    if (entry) this.table.apply(entry);
    return entry?.operation === 'PUT' ? this.table.get(id) : undefined;
  }

  private remember(record: EngineRecord, revision: number): VersionedEngine {
    this.table.apply({ key: record.id, revision, operation: 'PUT', value: encodeJson(record) });
    return { record, revision };
  }
}
