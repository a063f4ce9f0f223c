/**
 * A log file that never grows past its bound: `<name>.log` takes the writes; when the next chunk would take it
 * past `maxBytes` it becomes `<name>.log.1` (`.1` becomes `.2`, …) and a fresh `<name>.log` is begun; only
 * `files` files are kept, the current one included. A chunk larger than the bound itself is split across
 * files, so no file ever holds more than `maxBytes`. Writes are synchronous: a supervisor's log traffic is
 * small, and a crash of the supervisor then loses nothing it was handed.
 */
import { closeSync, existsSync, fstatSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';

export interface LogRotation {
  /** A file is rotated before it would pass this many bytes. */
  maxBytes: number;
  /** Files kept per log, the one being written included (so `files - 1` rotated ones). */
  files: number;
}

export class RotatingLog extends Writable {
  private fd: number;
  private size: number;
  private readonly file: string;

  constructor(
    dir: string,
    name: string,
    private readonly rotation: LogRotation,
  ) {
    super();
    this.file = path.join(dir, `${name}.log`);
    this.fd = openSync(this.file, 'a');
    this.size = fstatSync(this.fd).size;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    try {
      this.append(chunk);
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _final(done: (err?: Error | null) => void): void {
    closeSync(this.fd);
    done();
  }

  private append(chunk: Buffer): void {
    let rest = chunk;
    while (rest.length > 0) {
      if (this.size > 0 && this.size + rest.length > this.rotation.maxBytes) this.rotate();
      const piece = rest.subarray(0, this.rotation.maxBytes - this.size);
      writeSync(this.fd, piece);
      this.size += piece.length;
      rest = rest.subarray(piece.length);
    }
  }

  /** `.log.(n-1)` → `.log.n` down to `.log` → `.log.1`; the oldest falls off. */
  private rotate(): void {
    closeSync(this.fd);
    const kept = (n: number): string => (n === 0 ? this.file : `${this.file}.${n}`);
    rmSync(kept(this.rotation.files - 1), { force: true });
    for (let n = this.rotation.files - 2; n >= 0; n--) {
      if (existsSync(kept(n))) renameSync(kept(n), kept(n + 1));
    }
    this.fd = openSync(this.file, 'a');
    this.size = 0;
  }
}
