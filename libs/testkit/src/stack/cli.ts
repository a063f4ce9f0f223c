import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { NatsUsers } from '@acefleet/contracts';
import type { NatsServer } from '../nats/nats-server.ts';
import { repoRoot } from './processes.ts';

const bin = path.join(repoRoot, 'tools/cli/bin/acefleet.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface CliOptions {
  timeoutMs?: number;
  /** `npx acefleet` (the installed bin, resolved as a user's shell would) instead of node on the launcher. */
  npx?: boolean;
}

/** Run `acefleet <args>` as a real child process in `cwd`, as an operator would. */
export function acefleet(args: string[], cwd: string, opts: CliOptions = {}): Promise<CliRun> {
  const started = performance.now();
  // --no: never fetch a package named acefleet from a registry when the bin is missing.
  const [cmd, argv] = opts.npx ? ['npx', ['--no', 'acefleet', ...args]] : [process.execPath, [bin, ...args]];
  const child = spawn(cmd, argv, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - started });
    });
  });
}

/** Parse a run's stdout as JSON, failing with what it printed when it is not. */
export function cliJson<T>(run: CliRun): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${run.code}): ${run.stdout}${run.stderr}`);
  }
}

/** A directory laid out like a repo after `npm start`: `.run/operator.nats-url` (0600) for `nats`. */
export async function operatorDir(nats: NatsServer): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'acefleet-cli-'));
  const { user, password } = nats.credentials(NatsUsers.operator);
  await mkdir(path.join(dir, '.run'));
  await writeFile(
    path.join(dir, '.run/operator.nats-url'),
    `nats://${user}:${password}@127.0.0.1:${nats.port}\n`,
    {
      mode: 0o600,
    },
  );
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
