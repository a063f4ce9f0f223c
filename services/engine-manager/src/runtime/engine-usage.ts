import { readFile } from 'node:fs/promises';
import type Docker from 'dockerode';
import type { EngineUsage } from './runtime.ts';

/** The memory figures of Docker's one-shot stats this reads (cgroup v2 names `inactive_file`, v1 `total_…`). */
interface MemoryStats {
  usage?: number;
  stats?: { inactive_file?: number; total_inactive_file?: number };
}

/**
 * A container's memory as `docker stats` shows it (usage less the page cache it may drop; tmpfs stays in, so a
 * cache there counts) and the bytes written into its own layer (`SizeRw`: what it writes outside its tmpfs
 * mounts). Either is undefined when Docker does not say.
 */
export async function dockerUsage(docker: Docker, containerId: string): Promise<EngineUsage> {
  const container = docker.getContainer(containerId);
  const [stats, info] = await Promise.all([
    container.stats({ stream: false, 'one-shot': true } as { stream: false }).catch(() => undefined),
    container.inspect({ size: true } as Docker.ContainerInspectOptions).catch(() => undefined),
  ]);
  const memory = (stats as { memory_stats?: MemoryStats } | undefined)?.memory_stats;
  const inactive = memory?.stats?.inactive_file ?? memory?.stats?.total_inactive_file ?? 0;
  return {
    memoryBytes: memory?.usage === undefined ? undefined : Math.max(0, memory.usage - inactive),
    diskBytes: (info as { SizeRw?: number } | undefined)?.SizeRw,
  };
}

/** A local engine process's resident memory (`VmRSS`); it has no layer of its own, so no disk figure. */
export async function processUsage(pid: number | undefined): Promise<EngineUsage> {
  const status = pid === undefined ? '' : await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  return { memoryBytes: kb === undefined ? undefined : Number(kb) * 1024, diskBytes: undefined };
}
