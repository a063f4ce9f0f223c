import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { Labels } from '@acefleet/contracts';
import { confinedHostConfig, type EngineLimits } from './confinement.ts';
import { dockerUsage } from './engine-usage.ts';
import { engineEnvironment, type EngineEnv, type EnginePreset } from './presets.ts';
import type {
  EngineExit,
  EngineRuntime,
  EngineSpec,
  EngineUsage,
  RunningEngine,
  RuntimeEvent,
} from './runtime.ts';

export interface DockerRuntimeOptions {
  docker: Docker;
  presetName: string;
  preset: EnginePreset;
  image: string;
  hostId: string;
  /** The stack this manager belongs to; with hostId it selects the containers that are ours. */
  fleetId: string;
  limits: EngineLimits;
  /** `host`, a bridge network name, or `container:<name>` (a VPN container's namespace). */
  networkMode: string;
  /** Bridge networks: the host address each engine's HTTP port is published on; `none`: not published. */
  engineHttpBind: string;
  engineHost: string;
  /** ENGINE_ENV: variables for every engine, on top of the preset's. */
  engineEnv: EngineEnv;
}

interface DockerEvent {
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
}

const watchedActions = ['die', 'oom', 'destroy', 'health_status'];

/** Docker health check timing for engines (nanoseconds): unhealthy after about 30 s without an answer. */
const engineHealthTiming = { Interval: 10e9, Timeout: 5e9, Retries: 3, StartPeriod: 10e9 };

/** A bridge network (not `host`, not a VPN container's namespace): the engine's P2P port must be published. */
const isBridge = (mode: string): boolean =>
  mode !== 'host' && mode !== 'none' && !mode.startsWith('container:');

/** The same value for the P2P port over TCP and UDP (BitTorrent-style peers use both). */
const p2pPublished = <T>(port: number, value: T): Record<string, T> => ({
  [`${port}/tcp`]: value,
  [`${port}/udp`]: value,
});

/** ENGINE_HTTP_BIND for engines reached by container name: their HTTP port is not published. */
export const NOT_PUBLISHED = 'none';

/** Docker's own default bridge: there already, never made or changed here. */
const DEFAULT_BRIDGE = 'bridge';

/**
 * Engines as Docker containers, confined (see confinement.ts) and marked with our host and fleet labels;
 * containers without both are never touched.
 */
export class DockerRuntime implements EngineRuntime {
  readonly kind = 'docker';
  /** Identifies the settings containers are made with; a container with another value is foreign-config. */
  private current: { image: string; hash: string; alsoCurrent: ReadonlySet<string> };

  /** CPUs of the daemon's host, asked once. */
  private hostCpus: number | undefined;
  /** The engines' bridge network, made when missing (once; again after a failure). */
  private network: Promise<void> | undefined;

  constructor(private readonly opts: DockerRuntimeOptions) {
    this.current = { image: opts.image, hash: this.hashOf(opts.image), alsoCurrent: new Set() };
  }

  get image(): string {
    return this.current.image;
  }

  /** Identifies the settings containers are made with now; a container with another value is foreign-config. */
  get configHash(): string {
    return this.current.hash;
  }

  useImage(image: string, alsoCurrent: readonly string[]): void {
    this.current = {
      image,
      hash: this.hashOf(image),
      alsoCurrent: new Set(alsoCurrent.map((i) => this.hashOf(i))),
    };
  }

  private hashOf(image: string): string {
    return createHash('sha1')
      .update(
        JSON.stringify([
          image,
          this.opts.presetName,
          this.opts.networkMode,
          this.opts.limits,
          this.opts.engineEnv,
          this.publishedHttp(),
        ]),
      )
      .digest('hex')
      .slice(0, 12);
  }

  private containerName(engineId: string): string {
    return `acefleet-engine-${engineId}`;
  }

  /** The labels that make a container ours: managed, this host, this fleet. */
  private ours(): Record<string, string> {
    return { [Labels.managed]: 'true', [Labels.host]: this.opts.hostId, [Labels.fleet]: this.opts.fleetId };
  }

  private ourLabels(): string[] {
    return Object.entries(this.ours()).map(([key, value]) => `${key}=${value}`);
  }

  /** Bridge mode with HTTP ports published: where on the Docker host; undefined otherwise. */
  private publishedHttp(): string | undefined {
    const { networkMode, engineHttpBind } = this.opts;
    return isBridge(networkMode) && engineHttpBind !== NOT_PUBLISHED ? engineHttpBind : undefined;
  }

  /**
   * What a bridge-networked engine publishes on the Docker host: its P2P port on every address (peers must
   * reach it), its HTTP port on ENGINE_HTTP_BIND only (127.0.0.1: this machine's services, nobody else).
   */
  private published(
    spec: EngineSpec,
    httpPort: number,
  ): Record<string, { HostIp?: string; HostPort: string }[]> {
    const bind = this.publishedHttp();
    return {
      ...p2pPublished(spec.p2pPort, [{ HostPort: String(spec.p2pPort) }]),
      ...(bind ? { [`${httpPort}/tcp`]: [{ HostIp: bind, HostPort: String(spec.httpPort) }] } : {}),
    };
  }

  /** The container create options (exposed so tests can check them without starting one). */
  containerSpec(spec: EngineSpec, hostCpus = Number.POSITIVE_INFINITY): Docker.ContainerCreateOptions {
    const { preset, networkMode, limits } = this.opts;
    const { image } = this;
    const httpPort = preset.httpPort(spec.httpPort);
    const bindAll = networkMode !== 'host';
    const health = preset.healthcheck?.(httpPort);
    const published = isBridge(networkMode) ? this.published(spec, httpPort) : undefined;
    return {
      name: this.containerName(spec.engineId),
      Image: image,
      Cmd: preset.cmd(httpPort, spec.p2pPort, bindAll),
      Env: engineEnvironment(
        preset.env(httpPort, spec.p2pPort, bindAll),
        this.opts.engineEnv,
        preset.cache.env(limits.cacheMb),
      ),
      ...(preset.user ? { User: preset.user } : {}),
      Labels: {
        ...this.ours(),
        [Labels.engineId]: spec.engineId,
        [Labels.httpPort]: String(httpPort),
        [Labels.p2pPort]: String(spec.p2pPort),
        [Labels.configHash]: this.configHash,
      },
      ...(health ? { Healthcheck: { Test: health, ...engineHealthTiming } } : {}),
      ...(published ? { ExposedPorts: Object.fromEntries(Object.keys(published).map((p) => [p, {}])) } : {}),
      HostConfig: {
        NetworkMode: networkMode,
        ...(published ? { PortBindings: published } : {}),
        RestartPolicy: { Name: 'no' },
        Init: false,
        ...confinedHostConfig(preset, limits, hostCpus),
      },
    };
  }

  async start(spec: EngineSpec): Promise<{ containerId: string }> {
    this.network ??= this.ensureNetwork().catch((err: unknown) => {
      this.network = undefined;
      throw err;
    });
    await this.network;
    this.hostCpus ??= ((await this.opts.docker.info()) as { NCPU: number }).NCPU;
    const container = await this.opts.docker.createContainer(this.containerSpec(spec, this.hostCpus));
    try {
      await container.start();
    } catch (err) {
      // Best effort: the start's own error is what the caller gets; the reconciler removes what stays.
      await container.remove({ force: true }).catch(() => {});
      throw err;
    }
    return { containerId: container.id };
  }

  async remove(containerId: string): Promise<void> {
    const container = this.opts.docker.getContainer(containerId);
    const info = await container.inspect().catch((err: { statusCode?: number }) => {
      if (err.statusCode === 404) return undefined;
      throw err;
    });
    const labels = info?.Config.Labels ?? {};
    if (!Object.entries(this.ours()).every(([key, value]) => labels[key] === value)) return;
    await container.remove({ force: true }).catch((err: { statusCode?: number }) => {
      if (err.statusCode !== 404 && err.statusCode !== 409) throw err;
    });
  }

  async exitOf(containerId: string): Promise<EngineExit | undefined> {
    const info = await this.opts.docker
      .getContainer(containerId)
      .inspect()
      .catch((err: { statusCode?: number }) => (err.statusCode === 404 ? null : undefined));
    if (info === null) return { reason: 'gone' };
    if (!info || info.State.Running || info.State.Status === 'created') return undefined;
    return { exitCode: info.State.ExitCode, ...(info.State.OOMKilled ? { reason: 'out of memory' } : {}) };
  }

  async list(): Promise<RunningEngine[]> {
    const containers = await this.opts.docker.listContainers({
      all: true,
      filters: { label: this.ourLabels() },
    });
    return containers.flatMap((c) => {
      const engineId = c.Labels[Labels.engineId];
      const httpPort = Number(c.Labels[Labels.httpPort]);
      const p2pPort = Number(c.Labels[Labels.p2pPort]);
      if (!engineId || !Number.isInteger(httpPort)) return [];
      return [
        {
          engineId,
          containerId: c.Id,
          httpPort,
          p2pPort: Number.isInteger(p2pPort) && p2pPort > 0 ? p2pPort : undefined,
          running: c.State === 'running',
          current: this.isCurrent(c.Labels[Labels.configHash]),
          image: c.Image,
        },
      ];
    });
  }

  private isCurrent(hash: string | undefined): boolean {
    return hash !== undefined && (hash === this.current.hash || this.current.alsoCurrent.has(hash));
  }

  baseUrlOf(spec: { engineId: string; httpPort: number }): string {
    const byName = isBridge(this.opts.networkMode) && !this.publishedHttp();
    return `http://${byName ? this.containerName(spec.engineId) : this.opts.engineHost}:${spec.httpPort}`;
  }

  /**
   * The engines' own bridge network, made when missing: engines on it reach the internet (their swarm) but not
   * each other (inter-container traffic off), nor the host's loopback, where the services and NATS listen.
   * Docker's default `bridge` and a network made by someone else (compose's) are used as they are.
   */
  private async ensureNetwork(): Promise<void> {
    const name = this.opts.networkMode;
    if (!isBridge(name) || name === DEFAULT_BRIDGE) return;
    if ((await this.networksNamed(name)).length > 0) return;
    await this.opts.docker
      .createNetwork({
        Name: name,
        Driver: 'bridge',
        CheckDuplicate: true,
        Labels: { [Labels.managed]: 'true' },
        Options: { 'com.docker.network.bridge.enable_icc': 'false' },
      })
      .catch((err: { statusCode?: number }) => {
        // Another manager made it meanwhile.
        if (err.statusCode !== 409) throw err;
      });
    await this.keepOneNetwork(name);
  }

  /**
   * Docker's duplicate check is not atomic: managers starting at once can each make a network of the name,
   * which then no container can join (`network is ambiguous`). Every one of them keeps the same one (the
   * lowest id) and removes the others it finds, which are new, empty and ours.
   */
  private async keepOneNetwork(name: string): Promise<void> {
    const [, ...extra] = (await this.networksNamed(name)).sort((a, b) => a.Id.localeCompare(b.Id));
    for (const n of extra) {
      if (n.Labels?.[Labels.managed] !== 'true') continue;
      await this.opts.docker
        .getNetwork(n.Id)
        .remove()
        .catch(() => {
          // Removed by another manager doing the same, or joined meanwhile: either way it is not ours to keep.
        });
    }
  }

  private async networksNamed(name: string): Promise<Docker.NetworkInspectInfo[]> {
    const found = await this.opts.docker.listNetworks({ filters: { name: [name] } });
    // The filter matches parts of names.
    return found.filter((n) => n.Name === name);
  }

  async watch(onEvent: (e: RuntimeEvent) => void, signal: AbortSignal): Promise<void> {
    const stream = (await this.opts.docker.getEvents({
      filters: { type: ['container'], label: this.ourLabels(), event: watchedActions },
    })) as Readable;
    const abort = (): void => void stream.destroy();
    signal.addEventListener('abort', abort, { once: true });
    try {
      for await (const line of createInterface({ input: stream })) {
        const event = parseEvent(line);
        if (event) onEvent(event);
      }
    } catch (err) {
      if (!signal.aborted) throw err;
    } finally {
      signal.removeEventListener('abort', abort);
    }
  }

  async healthOf(name: string): Promise<string | undefined> {
    const info = await this.opts.docker
      .getContainer(name)
      .inspect()
      // No such container (or Docker down): no health to report; the VPN watcher says so itself.
      .catch(() => undefined);
    if (!info) return undefined;
    return info.State.Running ? info.State.Health?.Status : 'stopped';
  }

  usage(containerId: string): Promise<EngineUsage> {
    return dockerUsage(this.opts.docker, containerId);
  }
}

function parseEvent(line: string): RuntimeEvent | undefined {
  let raw: DockerEvent;
  try {
    raw = JSON.parse(line) as DockerEvent;
  } catch {
    return undefined;
  }
  const engineId = raw.Actor?.Attributes?.[Labels.engineId];
  const containerId = raw.Actor?.ID;
  const action = raw.Action ?? '';
  if (!engineId || !containerId) return undefined;
  if (action.startsWith('health_status')) {
    return { engineId, containerId, kind: 'health', health: action.split(': ')[1]?.trim() ?? '' };
  }
  if (action === 'die' || action === 'oom' || action === 'destroy') {
    return { engineId, containerId, kind: action };
  }
  return undefined;
}
