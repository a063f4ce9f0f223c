import { Counter, Gauge, type Registry } from 'prom-client';
import type { LiveFeed } from './live.ts';
import type { FleetView, Overview } from './overview.ts';

/**
 * Fleet totals for Prometheus, computed from the stored history at scrape time (one overview per scrape).
 * Counts read back from the database are gauges: they are exact after a restart, unlike process counters.
 */
export function registerFleetMetrics(registry: Registry, view: FleetView, live: LiveFeed): Counter {
  let cached: { at: number; overview: Overview } | undefined;
  const overview = (): Overview => {
    if (!cached || Date.now() - cached.at > 500) cached = { at: Date.now(), overview: view.overview() };
    return cached.overview;
  };
  const gauge = (name: string, help: string, labelNames: string[], fill: (g: Gauge, o: Overview) => void) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        fill(this, overview());
      },
    });

  gauge('acefleet_fleet_engines', 'Engines in the engines bucket, by state', ['state'], (g, o) => {
    for (const [state, n] of Object.entries(o.engines.byState)) g.set({ state }, n);
  });
  gauge('acefleet_fleet_streams', 'Streams playing now, fleet-wide', [], (g, o) => g.set(o.streams));
  gauge('acefleet_fleet_viewers', 'Players connected now, fleet-wide', [], (g, o) => g.set(o.viewers));
  gauge(
    'acefleet_fleet_p2p_download_bytes_per_second',
    'Sum of the engines reported download speed over streams playing now',
    [],
    (g, o) => g.set(o.throughputKBps * 1024),
  );
  gauge('acefleet_fleet_sessions', 'Sessions recorded, by state', ['state'], (g, o) => {
    g.set({ state: 'active' }, o.totals.activeStreams);
    g.set({ state: 'ended' }, o.totals.sessionsEnded);
  });
  gauge('acefleet_fleet_ended_sessions', 'Ended sessions, by end reason', ['reason'], (g, o) => {
    for (const [reason, n] of Object.entries(o.totals.endedByReason)) g.set({ reason }, n);
  });
  gauge('acefleet_fleet_relayed_bytes', 'Bytes of ended sessions, by direction', ['direction'], (g, o) => {
    g.set({ direction: 'in' }, o.totals.bytesIn);
    g.set({ direction: 'out' }, o.totals.bytesOut);
  });
  gauge('acefleet_fleet_alerts', 'Open alerts, by kind', ['kind'], (g, o) => {
    g.reset();
    for (const a of o.alerts) g.inc({ kind: a.kind });
  });
  new Gauge({
    name: 'acefleet_stats_live_clients',
    help: 'Dashboards following the live feed',
    registers: [registry],
    collect() {
      this.set(live.size);
    },
  });
  return new Counter({
    name: 'acefleet_stats_events_stored_total',
    help: 'Events stored by this process, by kind',
    labelNames: ['kind'],
    registers: [registry],
  });
}
