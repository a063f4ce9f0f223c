import {
  redactCredentials,
  Subjects,
  type EngineHealth,
  type EngineProbe,
  type EngineRecord,
  type HealthStatus,
} from '@acefleet/contracts';
import type { EventPublisher, Logger } from '@acefleet/platform';
import { Counter, Histogram, type Registry } from 'prom-client';

export interface MonitorOptions {
  intervalMs: number;
  probeTimeoutMs: number;
  failureThreshold: number;
}

interface EngineHealthState {
  status: HealthStatus | 'unknown';
  failures: number;
  probing: boolean;
  probes: number;
  lastProbeStartedAt: number;
  lastProbeAt: number;
}

export type Probe = (baseUrl: string, timeoutMs: number) => Promise<void>;

/**
 * Probes every engine on a fixed cadence. Probes run concurrently and each has its own timeout, so one
 * wedged engine never delays the others; a verdict change is published as an engine.health event, and every
 * probe, changed verdict or not, is told to `onProbe` (a light engine-probe message for the dashboard).
 */
export class HealthMonitor {
  private readonly states = new Map<string, EngineHealthState>();
  private timer: NodeJS.Timeout | undefined;
  private readonly probes: Counter;
  private readonly probeSeconds: Histogram;

  constructor(
    private readonly engines: () => EngineRecord[],
    private readonly probe: Probe,
    private readonly events: EventPublisher,
    private readonly opts: MonitorOptions,
    private readonly log: Logger,
    registry: Registry,
    private readonly onProbe: (probe: EngineProbe) => void = () => {},
  ) {
    this.probes = new Counter({
      name: 'acefleet_health_probes_total',
      help: 'Engine health probes, by result',
      labelNames: ['result'],
      registers: [registry],
    });
    this.probeSeconds = new Histogram({
      name: 'acefleet_health_probe_seconds',
      help: 'Engine health probe duration',
      buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10],
      registers: [registry],
    });
  }

  start(): void {
    this.tick();
    this.timer = setInterval(() => this.tick(), this.opts.intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  snapshot(): Record<
    string,
    {
      status: string;
      failures: number;
      probes: number;
      lastProbeStartedAt: string | null;
      lastProbeAt: string | null;
    }
  > {
    return Object.fromEntries(
      [...this.states].map(([id, s]) => [
        id,
        {
          status: s.status,
          failures: s.failures,
          probes: s.probes,
          lastProbeStartedAt: s.lastProbeStartedAt ? new Date(s.lastProbeStartedAt).toISOString() : null,
          lastProbeAt: s.lastProbeAt ? new Date(s.lastProbeAt).toISOString() : null,
        },
      ]),
    );
  }

  /** Start a probe for every engine that is not still being probed; forget engines that are gone. */
  private tick(): void {
    const engines = this.engines().filter((e) => e.state !== 'starting');
    const ids = new Set(engines.map((e) => e.id));
    for (const id of this.states.keys()) if (!ids.has(id)) this.states.delete(id);
    for (const engine of engines) {
      const state = this.states.get(engine.id) ?? {
        status: 'unknown',
        failures: 0,
        probing: false,
        probes: 0,
        lastProbeStartedAt: 0,
        lastProbeAt: 0,
      };
      this.states.set(engine.id, state);
      if (!state.probing) void this.probeOne(engine, state);
    }
  }

  private async probeOne(engine: EngineRecord, state: EngineHealthState): Promise<void> {
    state.probing = true;
    state.probes++;
    state.lastProbeStartedAt = Date.now();
    const end = this.probeSeconds.startTimer();
    let detail = 'get_status answered';
    let ok = true;
    try {
      await this.probe(engine.baseUrl, this.opts.probeTimeoutMs);
    } catch (err) {
      ok = false;
      detail = redactCredentials(err instanceof Error ? err.message : String(err));
    } finally {
      end();
      state.probing = false;
      state.lastProbeAt = Date.now();
    }
    this.probes.inc({ result: ok ? 'ok' : 'failed' });
    this.onProbe({ engineId: engine.id, ok, at: new Date(state.lastProbeAt).toISOString() });
    state.failures = ok ? 0 : state.failures + 1;
    const verdict: HealthStatus | undefined = ok
      ? 'healthy'
      : state.failures >= this.opts.failureThreshold
        ? 'unhealthy'
        : undefined;
    if (!verdict || verdict === state.status) return;
    const event: EngineHealth = {
      engineId: engine.id,
      status: verdict,
      previous: state.status,
      consecutiveFailures: state.failures,
      detail: detail.slice(0, 500),
      at: new Date().toISOString(),
    };
    state.status = verdict;
    this.log.info({ engineId: engine.id, status: verdict, detail }, 'engine health changed');
    this.events.publish(Subjects.engineHealth, event, `${engine.id}:${verdict}:${event.at}`);
  }
}
