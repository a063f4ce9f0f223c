/** What the fleet needs from wherever engines run (Docker, or local processes when Docker is absent). */
export interface EngineSpec {
  engineId: string;
  httpPort: number;
  p2pPort: number;
}

export interface RunningEngine {
  engineId: string;
  containerId: string;
  httpPort: number;
  p2pPort: number | undefined;
  running: boolean;
  /** Made with the settings in force now (image, preset, network); false: a foreign-config leftover. */
  current: boolean;
  /** The image it was made from (Docker). */
  image?: string;
}

/** How a container ended: its exit code when the runtime knows it, `gone` when it no longer exists. */
export interface EngineExit {
  exitCode?: number;
  reason?: 'gone' | 'out of memory';
}

/** A lifecycle change of one of our engines, as the runtime reports it. */
export interface RuntimeEvent {
  engineId: string;
  containerId: string;
  kind: 'die' | 'oom' | 'destroy' | 'health';
  /** For `health`: the new health status (healthy, unhealthy, starting). */
  health?: string;
}

/** What an engine uses now, as far as its runtime can tell (undefined: unknown). */
export interface EngineUsage {
  /** Resident memory, page cache left out (a tmpfs cache counts: it lives in memory). */
  memoryBytes: number | undefined;
  /** Bytes written into the container's own layer: a cache the engine keeps outside its bounded tmpfs. */
  diskBytes: number | undefined;
}

export interface EngineRuntime {
  readonly kind: string;
  /** The image new engines are made from; absent for a runtime that runs no image (local processes). */
  readonly image?: string;
  /**
   * Make new engines from `image` from now on (a rolling upgrade). Engines made from one of `alsoCurrent`
   * still count as current, not foreign-config, until the next call: the upgrade replaces them one at a time.
   */
  useImage?(image: string, alsoCurrent: readonly string[]): void;
  start(spec: EngineSpec): Promise<{ containerId: string }>;
  remove(containerId: string): Promise<void>;
  /** How the container ended, or undefined while it runs (or when the runtime cannot tell right now). */
  exitOf(containerId: string): Promise<EngineExit | undefined>;
  /** Only engines that carry our labels (Docker) or that we started (processes). */
  list(): Promise<RunningEngine[]>;
  /** Address to reach an engine's HTTP API at. */
  baseUrlOf(spec: { engineId: string; httpPort: number }): string;
  /** Report our engines' lifecycle events until `signal` aborts; returns when the event stream ends. */
  watch(onEvent: (e: RuntimeEvent) => void, signal: AbortSignal): Promise<void>;
  /** Docker health status of a named container (the VPN's); undefined when it has none or is unknown. */
  healthOf(name: string): Promise<string | undefined>;
  /** What one engine uses now (memory, disk); a runtime that cannot tell leaves it out. */
  usage?(containerId: string): Promise<EngineUsage>;
}
