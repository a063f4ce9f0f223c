import type {
  EngineHealth,
  EngineProbe,
  EngineRecord,
  ServicePresence,
  StreamStale,
  StreamStarved,
} from '@acefleet/contracts';
import type { HistoryStore, SampleRow } from './history.ts';
import type { SessionRow, SessionStore, Totals } from './store.ts';

export interface Alert {
  level: 'warning' | 'critical';
  kind: 'engine_unhealthy' | 'stream_stale' | 'stream_starved' | 'service_missing';
  message: string;
  engineId?: string;
  streamId?: string;
}

export interface EngineView extends EngineRecord {
  health: EngineHealth | null;
  /** The last probe, whatever its verdict (the health is the last verdict change). */
  lastProbe: EngineProbe | null;
  load: number;
  ageSeconds: number;
}

export interface StreamView extends SessionRow {
  stale: boolean;
  starved: boolean;
  sample: SampleRow | null;
}

export interface Overview {
  /** `unhealthy`: engines whose last health verdict failed, whatever state their record is in yet. */
  engines: { total: number; byState: Record<string, number>; unhealthy: number };
  streams: number;
  viewers: number;
  throughputKBps: number;
  totals: Totals;
  alerts: Alert[];
}

/** Read models for the API and the dashboard, joined from the engines table, sessions and history. */
export class FleetView {
  constructor(
    private readonly engineRecords: () => EngineRecord[],
    private readonly sessions: SessionStore,
    private readonly history: HistoryStore,
    private readonly lastProbe: (engineId: string) => EngineProbe | null = () => null,
  ) {}

  engines(now = Date.now()): EngineView[] {
    const health = this.history.latestBy('engine.health', 'engine_id') as Map<string, EngineHealth>;
    return this.engineRecords()
      .map((r) => ({
        ...r,
        health: health.get(r.id) ?? null,
        lastProbe: this.lastProbe(r.id),
        load: r.claims.length / r.capacity,
        ageSeconds: Math.max(0, Math.round((now - Date.parse(r.createdAt)) / 1000)),
      }))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  streams(): StreamView[] {
    const stale = this.history.latestBy('stream.stale', 'stream_id') as Map<string, StreamStale>;
    const starved = this.history.latestBy('stream.starved', 'stream_id') as Map<string, StreamStarved>;
    const samples = this.history.latestSamples();
    return this.sessions.active().map((s) => ({
      ...s,
      // A session the stream left behind on its previous engine does not make it stale.
      stale: stale.get(s.streamId)?.engineId === s.engineId,
      starved: starved.get(s.streamId)?.starved ?? false,
      sample: samples.get(s.streamId) ?? null,
    }));
  }

  overview(): Overview {
    const engines = this.engines();
    const streams = this.streams();
    const byState: Record<string, number> = { starting: 0, ready: 0, draining: 0, unhealthy: 0 };
    for (const e of engines) byState[e.state] = (byState[e.state] ?? 0) + 1;
    return {
      engines: {
        total: engines.length,
        byState,
        unhealthy: engines.filter((e) => e.health?.status === 'unhealthy').length,
      },
      streams: streams.length,
      // Until proxies publish stream.viewers, a stream counts the one player that started it.
      viewers: streams.reduce((n, s) => n + (s.viewers ?? 1), 0),
      throughputKBps: streams.reduce((n, s) => n + (s.sample?.speedDownKBps ?? 0), 0),
      totals: this.sessions.totals(),
      alerts: this.alerts(engines, streams),
    };
  }

  private alerts(engines: EngineView[], streams: StreamView[]): Alert[] {
    const alerts: Alert[] = [];
    for (const e of engines) {
      if (e.state === 'unhealthy' || e.health?.status === 'unhealthy') {
        const why = e.health?.detail ? `: ${e.health.detail}` : '';
        alerts.push({
          level: 'critical',
          kind: 'engine_unhealthy',
          message: `engine ${e.id} unhealthy${why}`,
          engineId: e.id,
        });
      }
    }
    for (const s of streams) {
      if (s.stale)
        alerts.push({
          level: 'warning',
          kind: 'stream_stale',
          message: `stream ${s.streamId} is stale (engine forgot the session)`,
          streamId: s.streamId,
        });
      if (s.starved)
        alerts.push({
          level: 'warning',
          kind: 'stream_starved',
          message: `stream ${s.streamId} has no peers`,
          streamId: s.streamId,
        });
    }
    const presence = this.history.latest('services.presence') as ServicePresence | undefined;
    for (const name of presence?.missing ?? [])
      alerts.push({
        level: 'critical',
        kind: 'service_missing',
        message: `service ${name} does not answer $SRV.PING`,
      });
    return alerts;
  }
}
