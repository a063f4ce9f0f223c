import { EngineProbe, ObservabilitySubjects, decodeMessage } from '@acefleet/contracts';
import {
  DeliveryGuard,
  supervise,
  type Logger,
  type NatsConnection,
  type Supervised,
} from '@acefleet/platform';

/** A probe older than this is forgotten: its engine was recycled long ago (engines live a day by default). */
const FORGET_AFTER_MS = 24 * 3600_000;

/**
 * The last probe of every engine, from health-monitor's engine-probe messages (core NATS, one per probe,
 * verdict changed or not): what the dashboard's "Last probe" shows. Kept in memory only: after a restart
 * the next probe round (HEALTH_INTERVAL_MS) fills it again.
 */
export class ProbeFollower {
  private readonly last = new Map<string, EngineProbe>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly log: Logger,
    private readonly onProbe: (probe: EngineProbe) => void,
  ) {}

  /** Follow the probes until stopped or the connection closes. */
  follow(): Supervised {
    const subject = ObservabilitySubjects.engineProbe;
    return supervise('engine probes', this.log, async (signal) => {
      const sub = this.nc.subscribe(subject);
      const guard = new DeliveryGuard(this.log);
      signal.addEventListener('abort', () => sub.unsubscribe(), { once: true });
      for await (const msg of sub) {
        if (guard.refuses(msg, subject, 'event')) continue;
        try {
          this.record(decodeMessage(EngineProbe, msg.data, 'engine probe'));
        } catch (err) {
          this.log.warn({ err }, 'ignoring a malformed engine probe');
        }
      }
    });
  }

  lastOf(engineId: string): EngineProbe | null {
    return this.last.get(engineId) ?? null;
  }

  private record(probe: EngineProbe): void {
    this.last.set(probe.engineId, probe);
    const oldest = Date.now() - FORGET_AFTER_MS;
    for (const [id, p] of this.last) if (Date.parse(p.at) < oldest) this.last.delete(id);
    this.onProbe(probe);
  }
}
