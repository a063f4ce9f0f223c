import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../wait.ts';

/** The repository root (services are started from here, as `npm start` does). */
export const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

/** A node process started from the repository root, its output kept for the test to read. */
export interface NodeProcess {
  child: ChildProcess;
  /** Everything the process printed so far (the last 200 kB; pino JSON lines for services). */
  output(): string;
  /** SIGTERM, wait for the exit; returns the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: a crash. */
  kill(): Promise<void>;
}

export interface ServiceProcess extends NodeProcess {
  name: string;
  url: string;
}

export interface StartServiceOptions {
  /** Path of the entry file relative to the repository root. */
  entry: string;
  env: Record<string, string>;
  /** The HTTP port the service will listen on (its /health is awaited). */
  port: number;
  timeoutMs?: number;
  /**
   * What to wait for: 'ok' (default) until /health says status ok (NATS connected, everything set up);
   * 'listening' only until /health answers 200, degraded or not.
   */
  until?: 'ok' | 'listening';
}

interface HealthReply {
  status?: string;
}

/** Run `node <args>` from the repository root with `env` over this process's environment (LOG_LEVEL info). */
export function spawnNode(args: string[], env: Record<string, string>): NodeProcess {
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-200_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      // A process that cannot stop in time is a failure of its own tests, not a reason to hang the suite.
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    kill: async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Start an acefleet service (or any entry file) as a real process and wait until its /health answers. */
export async function startService(name: string, opts: StartServiceOptions): Promise<ServiceProcess> {
  const proc = spawnNode(['--import', 'tsx', opts.entry], opts.env);
  const url = `http://127.0.0.1:${opts.port}`;
  try {
    await waitFor(async () => {
      if (proc.child.exitCode !== null) {
        throw new Error(`${name} exited with ${proc.child.exitCode}:\n${proc.output()}`);
      }
      const res = await fetch(`${url}/health`);
      if (!res.ok) return false;
      const body = (await res.json()) as HealthReply;
      return opts.until === 'listening' || body.status === undefined || body.status === 'ok';
    }, opts.timeoutMs ?? 30_000);
  } catch (err) {
    await proc.kill();
    throw new Error(`${name} did not become healthy:\n${proc.output().slice(-4000)}`, { cause: err });
  }
  return { ...proc, name, url };
}

/** The lines of a service's output that report an unhandled rejection (a bug): tests expect none. */
export function unhandledRejections(output: string): string[] {
  return output.split('\n').filter((line) => line.includes('"msg":"unhandled rejection"'));
}
