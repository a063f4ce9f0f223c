import {
  closeSync,
  fdatasync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import type { Logger } from '../logger.ts';
import { processAlive } from '../lifecycle.ts';

/**
 * The outbox setting of engine-manager, health-monitor and stats (the proxy has its own, on by default): their
 * events (drains, health verdicts, samples, proxy losses) wait on disk while NATS is away, and a restart
 * replays them. `npm start` and compose set it; empty keeps them in memory only (tests, one-off runs).
 */
export const OutboxConfig = {
  outboxDir: Type.String({
    default: '',
    description:
      "directory of this service's durable event outbox: events NATS has not stored yet survive a restart and are replayed (same message ids); one directory per instance; empty: memory only",
  }),
};

/** One event waiting to be stored, as one JSON line of the outbox file. */
export interface OutboxEntry {
  subject: string;
  msgId: string;
  /** When it was queued (ms since the epoch): replays of several files are merged in this order. */
  at: number;
  payload: unknown;
}

/** At most this long between a write and its fdatasync: the most a power loss can take. */
const SYNC_DELAY_MS = 1000;

/**
 * The on-disk copy of an event outbox: an append-only file of JSON lines, `<name>.<pid>.jsonl` in its
 * directory, rewritten from memory when it holds mostly stored events and emptied when nothing waits.
 *
 * Durability: every line is written before the event is sent, so a process crash (kill -9, OOM) loses
 * nothing; fdatasync follows within SYNC_DELAY_MS, so a host crash loses at most that last second. Syncing
 * every line would put a disk flush on the media path for each viewer count.
 *
 * A file is named after the process that writes it: a new process (same or new instance id) adopts the
 * files of processes that are gone, so events are replayed with their message ids and JetStream drops the
 * ones it already stored (within its duplicate window).
 */
export class OutboxFile {
  private fd: number;
  private lines = 0;
  private syncTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly file: string;

  private constructor(
    dir: string,
    name: string,
    private readonly log: Logger,
  ) {
    this.file = path.join(dir, `${name}.${process.pid}.jsonl`);
    this.fd = openSync(this.file, 'a');
  }

  /** Open this process's file in `dir`; returns it with the events left by processes that are gone. */
  static open(dir: string, name: string, log: Logger): { file: OutboxFile; left: OutboxEntry[] } {
    mkdirSync(dir, { recursive: true });
    const pattern = new RegExp(`^${name.replace(/[^\w-]/g, '\\$&')}\\.(\\d+)\\.jsonl$`);
    const left: OutboxEntry[] = [];
    const adopted: string[] = [];
    for (const entry of readdirSync(dir)) {
      const pid = Number(pattern.exec(entry)?.[1] ?? NaN);
      if (Number.isNaN(pid) || (pid !== process.pid && processAlive(pid))) continue;
      left.push(...parseLines(readFileSync(path.join(dir, entry), 'utf8'), log));
      adopted.push(entry);
    }
    left.sort((a, b) => a.at - b.at);
    const file = new OutboxFile(dir, name, log);
    if (adopted.length > 0) {
      file.rewrite(left);
      for (const entry of adopted) {
        if (path.join(dir, entry) !== file.file) rmSync(path.join(dir, entry), { force: true });
      }
      log.info({ events: left.length, files: adopted.length }, 'replaying events left in the outbox');
    }
    return { file, left };
  }

  /** Lines in the file, stored or not: the owner compacts when too many of them are stored already. */
  get size(): number {
    return this.lines;
  }

  /**
   * Keep `entry` on disk. After close() (a publisher that goes on after its process began shutting down) it
   * is not written: false tells the caller it lives in memory only.
   */
  append(entry: OutboxEntry): boolean {
    if (this.closed) return false;
    writeSync(this.fd, `${JSON.stringify(entry)}\n`);
    this.lines++;
    this.syncTimer ??= setTimeout(() => {
      this.syncTimer = undefined;
      fdatasync(this.fd, (err) => {
        if (err) this.log.warn({ err }, 'outbox sync failed');
      });
    }, SYNC_DELAY_MS);
    return true;
  }

  /** Replace the file's content by `pending` (atomically: a crash leaves the old or the new file). */
  rewrite(pending: readonly OutboxEntry[]): void {
    if (this.closed) return;
    if (pending.length === 0) {
      ftruncateSync(this.fd, 0);
      this.lines = 0;
      return;
    }
    const tmp = `${this.file}.tmp`;
    const fd = openSync(tmp, 'w');
    writeSync(fd, pending.map((e) => `${JSON.stringify(e)}\n`).join(''));
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, this.file);
    closeSync(this.fd);
    this.fd = openSync(this.file, 'a');
    this.lines = pending.length;
  }

  /** Sync what was written and close; the file stays for the next process when events are left. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.syncTimer);
    fsyncSync(this.fd);
    closeSync(this.fd);
    if (this.lines === 0) rmSync(this.file, { force: true });
  }
}

function parseLines(text: string, log: Logger): OutboxEntry[] {
  const out: OutboxEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      const e = JSON.parse(line) as OutboxEntry;
      if (typeof e.subject === 'string' && typeof e.msgId === 'string' && typeof e.at === 'number')
        out.push(e);
    } catch {
      // A crash in the middle of a write leaves a torn last line; everything before it is whole.
      log.warn('skipping a torn outbox line');
    }
  }
  return out;
}
