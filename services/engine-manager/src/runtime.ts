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
  running: boolean;
}

export interface EngineRuntime {
  readonly kind: string;
  start(spec: EngineSpec): Promise<{ containerId: string }>;
  remove(containerId: string): Promise<void>;
  /** Only engines that carry our labels (Docker) or that we started (processes). */
  list(): Promise<RunningEngine[]>;
  /** Address to reach an engine's HTTP API at. */
  baseUrlOf(spec: { engineId: string; httpPort: number }): string;
}
