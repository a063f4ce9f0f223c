import { spawn } from 'node:child_process';
import path from 'node:path';
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
