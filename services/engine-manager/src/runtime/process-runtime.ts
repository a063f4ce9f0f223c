import { spawn, type ChildProcess } from 'node:child_process';
import { engineEnvironment, type EngineEnv, type EnginePreset } from './presets.ts';
import { processUsage } from './engine-usage.ts';
import type {
  EngineExit,
  EngineRuntime,
  EngineSpec,
  EngineUsage,
  RunningEngine,
  RuntimeEvent,
} from './runtime.ts';

/** How many ended engines' exit codes are remembered. */
const KEPT_EXITS = 32;

/**
 * Engines as local child processes: the fallback where no Docker engine can run (npm start says so).
 * Only processes this manager started are listed or stopped.
 */
export class ProcessRuntime implements EngineRuntime {
  readonly kind = 'process';
  private readonly children = new Map<string, { child: ChildProcess; spec: EngineSpec }>();
  /** Exit codes of the engines that ended last (a signal counts as -1). */
  private readonly exits = new Map<string, number>();
  private readonly listeners = new Set<(e: RuntimeEvent) => void>();

  constructor(
    private readonly command: string,
    private readonly preset: EnginePreset,
    private readonly engineHost: string,
    /** ENGINE_ENV: variables for every engine, on top of the preset's. */
    private readonly engineEnv: EngineEnv,
  ) {}

  start(spec: EngineSpec): Promise<{ containerId: string }> {
    const [bin, ...args] = this.command.split(/\s+/).filter(Boolean);
    const variables = engineEnvironment(this.preset.env(spec.httpPort, spec.p2pPort, false), this.engineEnv);
    const child = spawn(bin ?? 'node', [...args, ...this.preset.cmd(spec.httpPort, spec.p2pPort, false)], {
      stdio: 'ignore',
      // What spawn gives a child by default (this process's environment), plus what a container would get.
      env: {
        ...process.env,
        ...Object.fromEntries(
          variables.map((v) => [v.slice(0, v.indexOf('=')), v.slice(v.indexOf('=') + 1)]),
        ),
      },
    });
    const containerId = `pid-${child.pid ?? 'unknown'}-${spec.engineId}`;
    this.children.set(containerId, { child, spec });
    child.once('exit', (code) => {
      this.children.delete(containerId);
      this.exits.set(containerId, code ?? -1);
      // Only the last few are kept: a starting engine's exit is looked at within a second.
      const oldest = this.exits.keys().next().value;
      if (this.exits.size > KEPT_EXITS && oldest !== undefined) this.exits.delete(oldest);
      for (const l of this.listeners) l({ engineId: spec.engineId, containerId, kind: 'die' });
    });
    return Promise.resolve({ containerId });
  }

  async remove(containerId: string): Promise<void> {
    const entry = this.children.get(containerId);
    if (!entry || entry.child.exitCode !== null) return;
    const exited = new Promise((resolve) => entry.child.once('exit', resolve));
    entry.child.kill('SIGTERM');
    const timer = setTimeout(() => entry.child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }

  exitOf(containerId: string): Promise<EngineExit | undefined> {
    const exitCode = this.exits.get(containerId);
    if (exitCode !== undefined) return Promise.resolve({ exitCode });
    const entry = this.children.get(containerId);
    if (!entry) return Promise.resolve({ reason: 'gone' });
    const code = entry.child.exitCode;
    return Promise.resolve(code === null ? undefined : { exitCode: code });
  }

  list(): Promise<RunningEngine[]> {
    return Promise.resolve(
      [...this.children].map(([containerId, { child, spec }]) => ({
        engineId: spec.engineId,
        containerId,
        httpPort: spec.httpPort,
        p2pPort: spec.p2pPort,
        running: child.exitCode === null,
        current: true,
      })),
    );
  }

  baseUrlOf(spec: { httpPort: number }): string {
    return `http://${this.engineHost}:${spec.httpPort}`;
  }

  watch(onEvent: (e: RuntimeEvent) => void, signal: AbortSignal): Promise<void> {
    this.listeners.add(onEvent);
    return new Promise((resolve) =>
      signal.addEventListener(
        'abort',
        () => {
          this.listeners.delete(onEvent);
          resolve();
        },
        { once: true },
      ),
    );
  }

  healthOf(): Promise<string | undefined> {
    return Promise.resolve(undefined);
  }

  usage(containerId: string): Promise<EngineUsage> {
    return processUsage(this.children.get(containerId)?.child.pid);
  }
}
