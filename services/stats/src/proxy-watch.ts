import { NoRespondersError } from '@nats-io/nats-core';
import { Svcm } from '@nats-io/services';
import { proxyNameOf, ServiceNames, Subjects, type ProxyLost } from '@acefleet/contracts';
import type { EventPublisher, Logger, NatsConnection } from '@acefleet/platform';
import type { SessionStore } from './store.ts';

export interface ProxyWatchOptions {
  /** A proxy that has not answered $SRV.PING for this long is gone: its open sessions are ended. */
  lostAfterMs: number;
  intervalMs: number;
  /** How long one ping round waits for answers. */
  waitMs: number;
}

/**
 * Ends the sessions of proxies that are gone (killed, host lost), which can no longer end them: with
 * reason proxy_lost, when the proxy has not answered presence pings for `lostAfterMs`, or at once when
 * another run of the same proxy answers (it was restarted). Proxies are told apart by their id
 * (`<name>.<run>`: the name is the proxy's own NATS user, the run new at every start), never by their HTTP
 * address, which two proxies on two hosts may share (`127.0.0.1:8080`).
 *
 * The end is stats' own finding, a proxy.lost event (never a stream event in the proxy's name: only the
 * proxy may publish those), stored in the events stream so that every stats instance and every replay
 * applies it alike. Its message id (`<proxyId>:lost`) lets JetStream store it once, whoever finds it first.
 */
export class ProxyWatch {
  private timer: NodeJS.Timeout | undefined;
  private checking = false;
  /** When each proxy was last heard (or its sessions first noticed). */
  private readonly seen = new Map<string, number>();
  /** Proxies whose loss was published but whose sessions are not ended yet: not published again each round. */
  private ending = new Set<string>();
  /** When the last round began: a much longer gap means stats itself was stopped (SIGSTOP, a frozen host). */
  private lastRoundAt = 0;

  /** `ping` gives the proxy id of every proxy that answers (pingProxies over NATS). */
  constructor(
    private readonly ping: () => Promise<Set<string>>,
    private readonly sessions: SessionStore,
    private readonly events: EventPublisher,
    private readonly opts: ProxyWatchOptions,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.check(), this.opts.intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      const began = this.now();
      const awayMs = this.lastRoundAt > 0 ? began - this.lastRoundAt : 0;
      const slept = awayMs > 2 * this.opts.intervalMs + this.opts.waitMs;
      this.lastRoundAt = began;
      const answering = await this.ping();
      const now = this.now();
      if (slept) {
        // Silence that stats did not watch (it was not running, and its NATS connection may still be coming
        // back) says nothing about the proxies: their grace starts again now.
        this.log.warn({ awayMs }, 'presence rounds were paused: proxy grace restarts');
        for (const id of this.seen.keys()) this.seen.set(id, now);
      }
      for (const id of answering) this.seen.set(id, now);
      const runOf = new Map([...answering].map((id) => [proxyNameOf(id), id]));
      const withSessions = this.sessions.activeProxies();
      this.ending = new Set([...this.ending].filter((id) => withSessions.includes(id)));
      for (const proxyId of withSessions) {
        if (answering.has(proxyId)) continue;
        // A proxy never seen answering gets its grace from when its sessions were first noticed.
        const last = this.seen.get(proxyId) ?? now;
        this.seen.set(proxyId, last);
        const successor = runOf.get(proxyNameOf(proxyId));
        if (successor || now - last >= this.opts.lostAfterMs) this.endSessionsOf(proxyId, successor);
      }
      const keep = new Set([...withSessions, ...answering]);
      for (const id of this.seen.keys()) if (!keep.has(id)) this.seen.delete(id);
    } catch (err) {
      this.log.warn({ err }, 'proxy presence check failed');
    } finally {
      this.checking = false;
    }
  }

  private endSessionsOf(proxyId: string, successor: string | undefined): void {
    if (this.ending.has(proxyId)) return;
    const open = this.sessions.sessions({ proxy: proxyId, state: 'active', limit: 100_000 }).length;
    if (open === 0) return;
    this.log.warn({ proxyId, successor, sessions: open }, 'proxy lost: ending its sessions');
    const event: ProxyLost = { proxyId, ...(successor ? { successor } : {}), at: new Date().toISOString() };
    this.events.publish(Subjects.proxyLost, event, `${proxyId}:lost`);
    this.ending.add(proxyId);
  }
}

/** The proxy id of every edge proxy that answers $SRV.PING within `waitMs`. */
export async function pingProxies(nc: NatsConnection, waitMs: number): Promise<Set<string>> {
  const answering = new Set<string>();
  const client = new Svcm(nc).client({ strategy: 'timer', maxWait: waitMs });
  try {
    for await (const p of await client.ping(ServiceNames.edgeProxy)) {
      const id = p.metadata?.instance;
      if (id) answering.add(id);
    }
  } catch (err) {
    // No proxy at all is an answer too: every one of them is silent.
    if (!(err instanceof NoRespondersError)) throw err;
  }
  return answering;
}
