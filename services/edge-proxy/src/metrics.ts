import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type ProxyMetrics = ReturnType<typeof createProxyMetrics>;

/** Proxy metrics; labels are bounded (results, reasons and states are closed sets). */
export function createProxyMetrics(
  registry: Registry,
  snapshot: () => { clients: number; streams: number; standbys?: number },
) {
  const registers = [registry];
  return {
    clients: new Gauge({
      name: 'acefleet_proxy_clients',
      help: 'Players currently receiving a stream',
      registers,
      collect() {
        this.set(snapshot().clients);
      },
    }),
    streams: new Gauge({
      name: 'acefleet_proxy_streams',
      help: 'Upstream engine sessions currently open',
      registers,
      collect() {
        this.set(snapshot().streams);
      },
    }),
    standbys: new Gauge({
      name: 'acefleet_proxy_standby_sessions',
      help: 'Hot standby engine sessions open (HOT_STANDBY_VIEWERS): each holds a claim of its own',
      registers,
      collect() {
        this.set(snapshot().standbys ?? 0);
      },
    }),
    standbySwitches: new Counter({
      name: 'acefleet_proxy_standby_switches_total',
      help: 'Streams that switched to their hot standby, by why they left their engine',
      labelNames: ['reason'],
      registers,
    }),
    bytesIn: new Counter({
      name: 'acefleet_proxy_bytes_in_total',
      help: 'Bytes read from engines',
      registers,
    }),
    bytesOut: new Counter({
      name: 'acefleet_proxy_bytes_out_total',
      help: 'Bytes written to players',
      registers,
    }),
    firstByteSeconds: new Histogram({
      name: 'acefleet_proxy_time_to_first_byte_seconds',
      help: 'From a player request to its first media byte',
      labelNames: ['join'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    acquireSeconds: new Histogram({
      name: 'acefleet_proxy_engine_acquire_seconds',
      help: 'Time to get an engine, by result',
      labelNames: ['result'],
      // Fine from 1 to 100 ms, where a healthy acquire lands, so its quantiles read to a few ms.
      buckets: [
        0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 5, 15,
        30,
      ],
      registers,
    }),
    engineStartSeconds: new Histogram({
      name: 'acefleet_proxy_engine_start_seconds',
      help: "From the engine's start call to its first whole TS packet: the engine's own part of a start",
      buckets: [0.01, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    slowSkips: new Counter({
      name: 'acefleet_proxy_slow_client_skips_total',
      help: 'Times a lagging client jumped to the live edge',
      registers,
    }),
    slowDrops: new Counter({
      name: 'acefleet_proxy_slow_client_drops_total',
      help: 'Clients disconnected for not reading',
      registers,
    }),
    failovers: new Counter({
      name: 'acefleet_proxy_failovers_total',
      help: 'Streams moved to another engine after losing theirs, by result',
      labelNames: ['result'],
      registers,
    }),
    lingerHits: new Counter({
      name: 'acefleet_proxy_linger_hits_total',
      help: 'Players that joined a stream kept open by linger',
      registers,
    }),
    streamsEnded: new Counter({
      name: 'acefleet_proxy_streams_ended_total',
      help: 'Streams ended, by reason',
      labelNames: ['reason'],
      registers,
    }),
  };
}
