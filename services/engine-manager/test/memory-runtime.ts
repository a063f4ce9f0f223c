import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EngineExit, EngineRuntime, EngineSpec, RunningEngine } from '../src/runtime/runtime.ts';

/** How many fake containers run, per host and fleet-wide, and the most there ever were at once. */
export class ContainerCount {
  private readonly running = new Map<string, number>();
  peakPerHost = 0;
  peakFleet = 0;

  started(hostId: string): void {
    const n = (this.running.get(hostId) ?? 0) + 1;
    this.running.set(hostId, n);
    this.peakPerHost = Math.max(this.peakPerHost, n);
    this.peakFleet = Math.max(
      this.peakFleet,
      [...this.running.values()].reduce((a, b) => a + b, 0),
    );
  }

  removed(hostId: string): void {
    this.running.set(hostId, (this.running.get(hostId) ?? 1) - 1);
  }
}

/**
 * A FAKE container runtime, for pure-logic tests of the claim path only: each "container" is a loopback
 * HTTP server in this process that answers get_status, up after `startDelayMs()`. Everything else (NATS,
 * the KV bucket, the managers, their endpoints and loops) is real.
 */
export class MemoryRuntime implements EngineRuntime {
  readonly kind = 'memory';
  private readonly engines = new Map<string, { server: http.Server; spec: EngineSpec }>();

  constructor(
    private readonly hostId: string,
    private readonly count: ContainerCount,
    private readonly startDelayMs: () => number,
  ) {}

  async start(spec: EngineSpec): Promise<{ containerId: string }> {
    await sleep(this.startDelayMs());
    const server = http.createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ result: { status: 'idle' }, error: null }));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(spec.httpPort, '127.0.0.1', resolve);
    });
    const containerId = `memory-${spec.engineId}`;
    this.engines.set(containerId, { server, spec });
    this.count.started(this.hostId);
    return { containerId };
  }

  async remove(containerId: string): Promise<void> {
    const engine = this.engines.get(containerId);
    if (!engine) return;
    this.engines.delete(containerId);
    this.count.removed(this.hostId);
    engine.server.closeAllConnections();
    await new Promise((resolve) => engine.server.close(resolve));
  }

  async removeAll(): Promise<void> {
    await Promise.all([...this.engines.keys()].map((id) => this.remove(id)));
  }

  exitOf(containerId: string): Promise<EngineExit | undefined> {
    return Promise.resolve(this.engines.has(containerId) ? undefined : { reason: 'gone' });
  }

  list(): Promise<RunningEngine[]> {
    return Promise.resolve(
      [...this.engines].map(([containerId, { spec }]) => ({
        engineId: spec.engineId,
        containerId,
        httpPort: spec.httpPort,
        p2pPort: spec.p2pPort,
        running: true,
        current: true,
      })),
    );
  }

  baseUrlOf(spec: { httpPort: number }): string {
    return `http://127.0.0.1:${spec.httpPort}`;
  }

  watch(_onEvent: unknown, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  }

  healthOf(): Promise<string | undefined> {
    return Promise.resolve(undefined);
  }
}

/**
 * The FAKE runtime with images, for pure-logic tests of rolling upgrades: a start from an image it does not
 * have fails (as Docker's create does: "No such image"), and each engine is current while made from the
 * image in force or one `useImage` keeps current, as DockerRuntime's config hash says.
 */
export class ImageMemoryRuntime extends MemoryRuntime {
  private current: { image: string; alsoCurrent: readonly string[] };
  private readonly imageOf = new Map<string, string>();

  constructor(
    hostId: string,
    count: ContainerCount,
    image: string,
    private readonly available: ReadonlySet<string>,
  ) {
    super(hostId, count, () => 0);
    this.current = { image, alsoCurrent: [] };
  }

  get image(): string {
    return this.current.image;
  }

  useImage(image: string, alsoCurrent: readonly string[]): void {
    this.current = { image, alsoCurrent };
  }

  override async start(spec: EngineSpec): Promise<{ containerId: string }> {
    const { image } = this.current;
    if (!this.available.has(image)) throw new Error(`(HTTP code 404) No such image: ${image}`);
    const started = await super.start(spec);
    this.imageOf.set(started.containerId, image);
    return started;
  }

  override async list(): Promise<RunningEngine[]> {
    const { image, alsoCurrent } = this.current;
    return (await super.list()).map((e) => {
      const made = this.imageOf.get(e.containerId) ?? image;
      return { ...e, image: made, current: made === image || alsoCurrent.includes(made) };
    });
  }
}
