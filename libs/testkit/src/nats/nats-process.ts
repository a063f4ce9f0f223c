import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { waitFor } from '../wait.ts';

export interface NatsProcess {
  /** Start nats-server with the arguments of the moment; resolves with its client port once it listens. */
  launch: () => Promise<number>;
  /** Kill it (SIGKILL: an outage, not a shutdown), keeping its store; nothing when it is not running. */
  stop: () => Promise<void>;
}

/** One nats-server process that can be killed and started again; `dir` holds its ports file. */
export function natsProcess(opts: {
  dir: string;
  args: () => string[];
  logFile: string;
  env: Record<string, string>;
}): NatsProcess {
  let proc: ChildProcess | undefined;
  return {
    launch: async () => {
      const portsDir = path.join(opts.dir, 'ports');
      await rm(portsDir, { recursive: true, force: true });
      await mkdir(portsDir, { recursive: true });
      const child = spawn('nats-server', [...opts.args(), '-l', opts.logFile, '--ports_file_dir', portsDir], {
        stdio: 'ignore',
        env: { ...process.env, ...opts.env },
      });
      proc = child;
      return waitFor(async () => {
        if (child.exitCode !== null) throw new Error(`nats-server exited with ${child.exitCode}`);
        const files = await readdir(portsDir).catch(() => []);
        const file = files.find((f) => f.endsWith('.ports'));
        if (!file) return false;
        const ports = JSON.parse(await readFile(path.join(portsDir, file), 'utf8')) as { nats: string[] };
        return Number(new URL(ports.nats[0]!).port);
      }, 10_000);
    },
    stop: async () => {
      const child = proc;
      // A killed process has a signalCode and no exitCode: it must not be waited for a second time.
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}
