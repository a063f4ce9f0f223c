import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { EngineRecord } from '@acefleet/contracts';
import type { EngineTable } from '@acefleet/engine-records';
import type { Logger } from '@acefleet/platform';

/**
 * The engines this proxy may fall back to: the live engines table while it has one, else the last copy of it
 * kept on disk, so a proxy restarted while NATS is down still knows where engines are. The copy is written
 * (atomically: a temporary file renamed over it) a moment after the table changes; only well-formed records
 * are written or read back.
 */
export class EngineCache {
  private live: EngineTable | undefined;
  private readonly saved: EngineRecord[];
  private writeTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly file: string,
    private readonly log: Logger,
    private readonly writeDelayMs = 1000,
  ) {
    this.saved = this.load();
  }

  records(): EngineRecord[] {
    return this.live ? this.live.records() : this.saved;
  }

  /** Serve from `table` from now on; keep the disk copy in step with it (call changed() on each change). */
  follow(table: EngineTable): void {
    this.live = table;
    this.changed();
  }

  changed(): void {
    this.writeTimer ??= setTimeout(() => {
      this.writeTimer = undefined;
      this.write();
    }, this.writeDelayMs);
  }

  /** Write what is pending now (on shutdown). */
  stop(): void {
    if (!this.writeTimer) return;
    clearTimeout(this.writeTimer);
    this.writeTimer = undefined;
    this.write();
  }

  private load(): EngineRecord[] {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(this.file, 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.log.warn({ err, file: this.file }, 'engine cache unreadable; starting without it');
      }
      return [];
    }
    const records = (Array.isArray(parsed) ? parsed : []).filter((r) => Value.Check(EngineRecord, r));
    this.log.info({ file: this.file, engines: records.length }, 'engine cache loaded');
    return records;
  }

  private write(): void {
    const records = this.records().filter((r) => Value.Check(EngineRecord, r));
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      mkdirSync(path.dirname(this.file), { recursive: true });
      writeFileSync(tmp, JSON.stringify(records));
      renameSync(tmp, this.file);
    } catch (err) {
      this.log.warn({ err, file: this.file }, 'engine cache not written');
    }
  }
}
