import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './ports.ts';
import { waitFor } from './wait.ts';

export interface NatsServer {
  url: string;
  port: number;
  /** Kill the server (SIGKILL) without losing its store, to simulate an outage. */
  stop(): Promise<void>;
  /** Start it again on the same port and store. */
  start(): Promise<void>;
  /** Stop it and remove its store. */
  destroy(): Promise<void>;
}

export interface NatsServerOptions {
  /** A fixed port (a random one by default). */
  port?: number;
  /** false: only prepare it (on a fixed port, taken from `port` or picked now); start() launches it. */
  launch?: boolean;
}

/** A real nats-server with JetStream on a loopback port and a store of its own. */
export async function startNatsServer(opts: NatsServerOptions = {}): Promise<NatsServer> {
  const dir = await mkdtemp(path.join(tmpdir(), 'acefleet-nats-'));
  let proc: ChildProcess | undefined;
  let port = opts.port ?? (opts.launch === false ? await freePort() : -1);

  const launch = async (): Promise<void> => {
    const portsDir = path.join(dir, 'ports');
    await rm(portsDir, { recursive: true, force: true });
    await mkdir(portsDir, { recursive: true });
    const args = ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', path.join(dir, 'store')];
    proc = spawn('nats-server', [...args, '--ports_file_dir', portsDir], { stdio: 'ignore' });
    const child = proc;
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`nats-server exited with ${child.exitCode}`);
      const files = await readdir(portsDir).catch(() => []);
      const file = files.find((f) => f.endsWith('.ports'));
      if (!file) return false;
      const ports = JSON.parse(await readFile(path.join(portsDir, file), 'utf8')) as { nats: string[] };
      port = Number(new URL(ports.nats[0]!).port);
      return true;
    }, 10_000);
  };

  const stop = async (): Promise<void> => {
    const child = proc;
    // A killed process has a signalCode and no exitCode: it must not be waited for a second time.
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };

  if (opts.launch !== false) await launch();
  return {
    get url() {
      return `nats://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    stop,
    start: launch,
    destroy: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
