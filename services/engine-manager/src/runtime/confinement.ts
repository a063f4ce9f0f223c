import type Docker from 'dockerode';
import type { ManagerConfig } from '../config.ts';
import type { EnginePreset } from './presets.ts';

/** Resource limits every engine container gets (0 leaves one unlimited). */
export interface EngineLimits {
  memoryMb: number;
  cpus: number;
  pidsLimit: number;
  logMaxSize: string;
  logMaxFiles: number;
  /** Size of the tmpfs mounted at the preset's cache directory. */
  cacheMb: number;
}

export function limitsOf(config: ManagerConfig): EngineLimits {
  return {
    memoryMb: config.engineMemoryMb,
    cpus: config.engineCpus,
    pidsLimit: config.enginePidsLimit,
    logMaxSize: config.engineLogMaxSize,
    logMaxFiles: config.engineLogMaxFiles,
    cacheMb: config.engineCacheMb,
  };
}

/**
 * The host settings that confine an engine: no privilege gain (setuid binaries stay unprivileged), every
 * capability dropped but the preset's, memory (swap included), CPU and process limits, rotated logs, and a
 * read-only root for images that write nowhere, and a bounded cache: a tmpfs of `cacheMb` where the preset's
 * engine keeps it (months of P2P caching would otherwise fill the host's disk). `hostCpus` caps the CPU limit: Docker refuses a limit above
 * the CPUs the daemon's host has.
 */
export function confinedHostConfig(
  preset: EnginePreset,
  limits: EngineLimits,
  hostCpus: number,
): Docker.HostConfig {
  const memory = limits.memoryMb * 1024 * 1024;
  const cpus = Math.min(limits.cpus, hostCpus);
  return {
    SecurityOpt: ['no-new-privileges:true'],
    CapDrop: ['ALL'],
    CapAdd: preset.capAdd,
    ...(memory > 0 ? { Memory: memory, MemorySwap: memory } : {}),
    ...(cpus > 0 ? { NanoCpus: Math.round(cpus * 1e9) } : {}),
    ...(limits.pidsLimit > 0 ? { PidsLimit: limits.pidsLimit } : {}),
    LogConfig: {
      Type: 'json-file',
      Config: { 'max-size': limits.logMaxSize, 'max-file': String(limits.logMaxFiles) },
    },
    ...(preset.readonlyRootfs ? { ReadonlyRootfs: true } : {}),
    Tmpfs: {
      ...(preset.readonlyRootfs ? { '/tmp': 'rw,noexec,nosuid,size=16m' } : {}),
      [preset.cache.dir]: `rw,noexec,nosuid,nodev,mode=1777,size=${limits.cacheMb}m`,
    },
  };
}
