import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Stack, StackNats } from '@acefleet/testkit';

/**
 * Every stack process's output, whole, in `<dir>/<service>-<instance>.log` (restarts append to the same file):
 * what explains a missed goal. The stack itself keeps only the last 200 kB of each process.
 */
export class ServiceLogs {
  private readonly followed = new WeakSet<ChildProcess>();
  private readonly files = new Map<string, WriteStream>();

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  /** Start copying the processes of `stack` not copied yet (call again after a restart). */
  follow(stack: Stack<StackNats>): void {
    for (const all of Object.values(stack.instances)) {
      for (const p of all) {
        if (this.followed.has(p.child)) continue;
        this.followed.add(p.child);
        const file = this.file(`${p.key}-${p.instance}.log`);
        file.write(`--- ${new Date().toISOString()} ${p.key} ${p.instance} started (${p.instanceId})\n`);
        p.child.stdout?.on('data', (chunk: Buffer) => file.write(chunk));
        p.child.stderr?.on('data', (chunk: Buffer) => file.write(chunk));
      }
    }
  }

  private file(name: string): WriteStream {
    let file = this.files.get(name);
    if (!file) {
      file = createWriteStream(path.join(this.dir, name), { flags: 'a' });
      this.files.set(name, file);
    }
    return file;
  }

  async close(): Promise<void> {
    await Promise.all([...this.files.values()].map((f) => new Promise((r) => f.end(r))));
  }
}
