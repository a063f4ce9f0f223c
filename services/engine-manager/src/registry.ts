import { encodeJson, EngineTable, type VersionedEngine } from '@acefleet/platform';
import type { EngineRecord } from '@acefleet/contracts';

const MAX_CAS_ATTEMPTS = 20;

/**
 * Engine records with compare-and-set writes: every change is computed from the revision it was read at and
 * written only if nobody changed the record meanwhile, so concurrent acquires never double-book an engine.
 */
export class EngineRegistry {
  constructor(readonly table: EngineTable) {}

  async create(record: EngineRecord): Promise<VersionedEngine> {
    const revision = await this.table.kv.create(record.id, encodeJson(record));
    return this.remember(record, revision);
  }

  /**
   * Change one record: `change` gets the current record and returns the new one, or undefined to leave it.
   * Retries on a concurrent write. Returns the stored result (undefined when the record does not exist).
   */
  async mutate(
    id: string,
    change: (current: EngineRecord) => EngineRecord | undefined,
  ): Promise<VersionedEngine | undefined> {
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const current = attempt === 0 ? this.table.get(id) : await this.reload(id);
      if (!current) return undefined;
      const next = change(structuredClone(current.record));
      if (!next) return current;
      next.updatedAt = new Date().toISOString();
      try {
        const revision = await this.table.kv.update(id, encodeJson(next), current.revision);
        return this.remember(next, revision);
      } catch {
        // Someone else wrote first: read again and recompute.
      }
    }
    throw new Error(`engine ${id}: too much write contention`);
  }

  async remove(id: string): Promise<void> {
    await this.table.kv.delete(id);
    await this.reload(id);
  }

  private async reload(id: string): Promise<VersionedEngine | undefined> {
    const entry = await this.table.kv.get(id);
    if (entry) this.table.apply(entry);
    return entry?.operation === 'PUT' ? this.table.get(id) : undefined;
  }

  private remember(record: EngineRecord, revision: number): VersionedEngine {
    this.table.apply({ key: record.id, revision, operation: 'PUT', value: encodeJson(record) });
    return { record, revision };
  }
}
