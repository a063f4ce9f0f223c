/**
 * What a soak measures, every SOAK_SAMPLE_MS: each process's resident memory, open file descriptors and (the
 * Node services) event-loop delay; the bytes on disk of the logs, JetStream's store, stats' SQLite files and
 * the engines' own container layers.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { SERVICES, type SoakStack } from './stack.ts';

const run = promisify(execFile);

export interface Sample {
  /** Seconds since the soak began. */
  t: number;
  /**
   * Per process: its pid (a restart changes it), MiB resident, open fds, event-loop delay p99 in ms
   * (undefined for nats-server or unknown).
   */
  processes: Record<
    string,
    { pid: number; rssMb: number; fds: number; loopP99Ms: number | undefined } | undefined
  >;
  disk: {
    logsBytes: number;
    largestLogBytes: number;
    logFiles: number;
    jetstreamBytes: number;
    sqliteBytes: number;
    enginesBytes: number;
  };
  engines: number;
  players: number;
}

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line?.split(/\s+/)[1] ?? 0) / 1024;
}

/** Every file under `dir`, with its size; a file removed while walking is skipped. */
function files(dir: string): { file: string; bytes: number }[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const file = path.join(dir, name);
    try {
      const s = statSync(file);
      return s.isDirectory() ? files(file) : [{ file, bytes: s.size }];
    } catch {
      return [];
    }
  });
}

const total = (list: { bytes: number }[]): number => list.reduce((a, f) => a + f.bytes, 0);

async function loopP99Ms(port: number): Promise<number | undefined> {
  const text = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(3000) })
    .then((r) => r.text())
    .catch(() => '');
  const m = /^acefleet_nodejs_eventloop_lag_p99_seconds\{[^}]*\} ([0-9.e+-]+)$/m.exec(text);
  return m ? Number(m[1]) * 1000 : undefined;
}

/** `12.3kB` → bytes (Docker's own units: powers of 1000). */
function dockerSize(text: string): number {
  const m = /^([0-9.]+)\s*([kMGT]?B)/.exec(text.trim());
  if (!m) return 0;
  const scale = { B: 1, kB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 }[m[2] as 'B'] ?? 1;
  return Number(m[1]) * scale;
}

async function enginesBytes(stack: SoakStack): Promise<{ bytes: number; count: number }> {
  const { stdout } = await run('docker', [
    'ps',
    '--size',
    '--filter',
    `label=io.acefleet.fleet=${stack.fleetId}`,
    '--format',
    '{{.Size}}',
  ]).catch(() => ({ stdout: '' }));
  const sizes = stdout.split('\n').filter(Boolean);
  return { bytes: sizes.reduce((a, s) => a + dockerSize(s), 0), count: sizes.length };
}

export async function sample(stack: SoakStack, startedAt: number, players: number): Promise<Sample> {
  const ports: Record<string, number> = {
    'edge-proxy': stack.ports.proxy,
    'engine-manager': stack.ports.manager,
    'health-monitor': stack.ports.monitor,
    stats: stack.ports.stats,
  };
  const processes: Sample['processes'] = {};
  for (const name of SERVICES) {
    const pid = stack.pidOf(name);
    try {
      if (pid === undefined) throw new Error('not running');
      processes[name] = {
        pid,
        rssMb: rssMb(pid),
        fds: readdirSync(`/proc/${pid}/fd`).length,
        loopP99Ms: ports[name] ? await loopP99Ms(ports[name]) : undefined,
      };
    } catch {
      processes[name] = undefined; // between a kill and its restart
    }
  }
  const logs = files(path.join(stack.stateDir, 'logs'));
  const engines = await enginesBytes(stack);
  return {
    t: (Date.now() - startedAt) / 1000,
    processes,
    disk: {
      logsBytes: total(logs),
      largestLogBytes: Math.max(0, ...logs.map((f) => f.bytes)),
      logFiles: logs.length,
      jetstreamBytes: total(files(path.join(stack.stateDir, `nats-${stack.ports.nats}`))),
      sqliteBytes: total(
        files(stack.stateDir).filter((f) =>
          path.basename(f.file).startsWith(`stats-${stack.ports.stats}.db`),
        ),
      ),
      enginesBytes: engines.bytes,
    },
    engines: engines.count,
    players,
  };
}
