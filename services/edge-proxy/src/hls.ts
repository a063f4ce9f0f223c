import { randomUUID } from 'node:crypto';
import { AcefleetError, type ContentRef, type StreamEnded } from '@acefleet/contracts';
import { rewriteToBase, startSession, stopSession, type EngineSession } from '@acefleet/engine-client';
import type { EventPublisher, Logger } from '@acefleet/platform';
import type { EngineLease, EngineSource } from './engine-source.ts';
import { publishEnded, publishStarted, type SessionIdentity } from './stream-events.ts';

const SEGMENTS_KEPT = 16;

export interface HlsSettings {
  engineStartTimeoutMs: number;
  engineCallTimeoutMs: number;
  /** An HLS session nobody has asked anything of for this long is stopped. */
  idleMs: number;
}

export interface HlsDeps {
  engines: EngineSource;
  events: EventPublisher;
  log: Logger;
  proxyId: string;
  settings: HlsSettings;
  onEnded: (session: HlsSession) => void;
}

interface Segment {
  engineUrl: string;
  /** One fetch per segment, shared by every player that asks for it. */
  body?: Promise<Buffer>;
}

/**
 * One HLS session of a content on one engine, shared by all its players: the playlist is fetched from the
 * engine and rewritten so segments come through the proxy (engine addresses never reach players), and each
 * segment is fetched from the engine once however many players ask for it.
 */
export class HlsSession {
  readonly id = randomUUID();
  readonly startedAt = new Date();
  private lease: EngineLease | undefined;
  private session: EngineSession | undefined;
  private ready: Promise<void>;
  private readonly segments = new Map<string, Segment>();
  private idleTimer: NodeJS.Timeout | undefined;
  private ended = false;
  private nextSegment = 0;
  bytesIn = 0;
  bytesOut = 0;
  requests = 0;

  constructor(
    readonly content: ContentRef,
    private readonly extraParams: Record<string, string>,
    private readonly deps: HlsDeps,
  ) {
    this.ready = this.open();
    this.ready.catch(() => this.end('engine_error'));
    this.touch();
  }

  get engineId(): string | undefined {
    return this.lease?.engineId;
  }

  get currentLease(): EngineLease | undefined {
    return this.lease;
  }

  private identity(engineId: string): SessionIdentity {
    const { proxyId } = this.deps;
    return { streamId: this.id, content: this.content, engineId, proxyId, startedAt: this.startedAt };
  }

  private async open(): Promise<void> {
    this.lease = await this.deps.engines.acquire(this.content, new Set());
    try {
      this.session = await startSession(this.lease.baseUrl, this.content, {
        timeoutMs: this.deps.settings.engineStartTimeoutMs,
        extraParams: this.extraParams,
        hls: true,
      });
    } catch (err) {
      void this.deps.engines.release(this.lease);
      this.lease = undefined;
      throw err;
    }
    publishStarted(this.deps.events, this.identity(this.lease.engineId), this.session.statUrl);
  }

  private touch(): void {
    this.requests++;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.end('linger_expired'), this.deps.settings.idleMs);
  }

  /** The engine's playlist with every segment URI replaced by `<segmentBase>/<name>`. */
  async playlist(segmentBase: string): Promise<string> {
    this.touch();
    await this.ready;
    const manifestUrl = this.session!.playbackUrl;
    const res = await fetch(manifestUrl, {
      signal: AbortSignal.timeout(this.deps.settings.engineCallTimeoutMs),
    });
    if (!res.ok)
      throw new AcefleetError('engine_error', `the engine answered the playlist with HTTP ${res.status}`);
    const text = await res.text();
    this.bytesIn += text.length;
    return text
      .split('\n')
      .map((line) => {
        const trimmed = line.trim();
        if (trimmed === '' || trimmed.startsWith('#')) return line;
        const engineUrl = rewriteToBase(new URL(trimmed, manifestUrl).toString(), this.lease!.baseUrl);
        return `${segmentBase}/${this.nameFor(engineUrl)}`;
      })
      .join('\n');
  }

  /** The proxy-side name of an engine segment: stable while the segment is in the window. */
  private nameFor(engineUrl: string): string {
    for (const [name, seg] of this.segments) if (seg.engineUrl === engineUrl) return name;
    const name = `${this.nextSegment++}.ts`;
    this.segments.set(name, { engineUrl });
    while (this.segments.size > SEGMENTS_KEPT) this.segments.delete(this.segments.keys().next().value!);
    return name;
  }

  /** A segment's bytes, fetched once from the engine for all players. */
  async segment(name: string): Promise<Buffer> {
    this.touch();
    const seg = this.segments.get(name);
    if (!seg) throw new AcefleetError('not_found', 'unknown or expired segment');
    seg.body ??= fetch(seg.engineUrl, {
      signal: AbortSignal.timeout(this.deps.settings.engineCallTimeoutMs),
    }).then(async (res) => {
      if (!res.ok)
        throw new AcefleetError('engine_error', `the engine answered a segment with HTTP ${res.status}`);
      const body = Buffer.from(await res.arrayBuffer());
      this.bytesIn += body.length;
      return body;
    });
    seg.body.catch(() => (seg.body = undefined));
    const body = await seg.body;
    this.bytesOut += body.length;
    return body;
  }

  end(reason: StreamEnded['reason']): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.idleTimer);
    const { lease, session } = this;
    if (session) void stopSession(session, this.deps.settings.engineCallTimeoutMs).catch(() => {});
    if (lease) void this.deps.engines.release(lease);
    if (session && lease) {
      const totals = { bytesIn: this.bytesIn, bytesOut: this.bytesOut, peakClients: 0 };
      publishEnded(this.deps.events, this.identity(lease.engineId), reason, totals);
    }
    this.deps.log.info({ hlsSession: this.id, reason }, 'hls session ended');
    this.deps.onEnded(this);
  }
}
