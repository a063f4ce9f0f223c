import Docker from 'dockerode';
import { AcefleetError, Labels } from '@acefleet/contracts';
import type { EnginePreset } from './presets.ts';
import type { EngineRuntime, EngineSpec, RunningEngine } from './runtime.ts';

export interface DockerRuntimeOptions {
  docker: Docker;
  preset: EnginePreset;
  image: string;
  hostId: string;
  networkMode: string;
  engineHost: string;
}

/** Engines as Docker containers, marked with our labels; containers without them are never touched. */
export class DockerRuntime implements EngineRuntime {
  readonly kind = 'docker';
  constructor(private readonly opts: DockerRuntimeOptions) {}

  private containerName(engineId: string): string {
    return `acefleet-engine-${engineId}`;
  }

  async start(spec: EngineSpec): Promise<{ containerId: string }> {
    const { preset, image, hostId, networkMode } = this.opts;
    const httpPort = preset.httpPort(spec.httpPort);
    try {
      const container = await this.opts.docker.createContainer({
        name: this.containerName(spec.engineId),
        Image: image,
        Cmd: preset.cmd(httpPort, spec.p2pPort, networkMode !== 'host'),
        Env: preset.env(httpPort, spec.p2pPort),
        Labels: {
          [Labels.managed]: 'true',
          [Labels.engineId]: spec.engineId,
          [Labels.host]: hostId,
          [Labels.httpPort]: String(httpPort),
        },
        HostConfig: { NetworkMode: networkMode, RestartPolicy: { Name: 'no' }, Init: false },
      });
      await container.start();
      return { containerId: container.id };
    } catch (cause) {
      throw new AcefleetError('runtime_unavailable', `docker could not start an engine: ${String(cause)}`, {
        cause,
        retryAfterMs: 5000,
      });
    }
  }

  async remove(containerId: string): Promise<void> {
    const container = this.opts.docker.getContainer(containerId);
    const info = await container.inspect().catch(() => undefined);
    if (!info || info.Config.Labels?.[Labels.managed] !== 'true') return;
    await container.remove({ force: true }).catch((err: { statusCode?: number }) => {
      if (err.statusCode !== 404 && err.statusCode !== 409) throw err;
    });
  }

  async list(): Promise<RunningEngine[]> {
    const containers = await this.opts.docker.listContainers({
      all: true,
      filters: { label: [`${Labels.managed}=true`, `${Labels.host}=${this.opts.hostId}`] },
    });
    return containers.flatMap((c) => {
      const engineId = c.Labels[Labels.engineId];
      const httpPort = Number(c.Labels[Labels.httpPort]);
      if (!engineId || !Number.isInteger(httpPort)) return [];
      return [{ engineId, containerId: c.Id, httpPort, running: c.State === 'running' }];
    });
  }

  baseUrlOf(spec: { engineId: string; httpPort: number }): string {
    const mode = this.opts.networkMode;
    const host =
      mode === 'host' || mode.startsWith('container:')
        ? this.opts.engineHost
        : this.containerName(spec.engineId);
    return `http://${host}:${spec.httpPort}`;
  }
}
