import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import {
  playerEventSubject,
  type ContentRef,
  type PlayerSessionEnded,
  type PlayerSessionStarted,
  type ProxyPlayersReply,
} from '@acefleet/contracts';
import type { EventPublisher, Logger } from '@acefleet/platform';
import type { Player } from './player-gate.ts';

/** The stream (TS) or HLS session a player watches. */
export interface Watched {
  id: string;
  content: ContentRef;
}

interface Live {
  started: PlayerSessionStarted;
  bytesOut(): number;
  /** Cut the player off (revocation): the session ends as its connection closes, or at once for HLS. */
  cut(): void;
}

/** How often idle HLS players are looked for. */
const HLS_SWEEP_MS = 1000;

/**
 * Every player session of this proxy: who (token name or address, user agent) watches which stream, since
 * when, how many bytes. An MPEG-TS session is one connection; an HLS player is known by its token or
 * address and user agent, and its session ends after `hlsIdleMs` without a request. Each session publishes
 * `player.started` and `player.ended` (message ids `<playerId>:started|ended`), with names, never tokens.
 */
export class PlayerSessions {
  private readonly live = new Map<string, Live>();
  private readonly hlsByViewer = new Map<
    string,
    { playerId: string; lastSeen: number; bytes: number; inFlight: number }
  >();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: { events: EventPublisher; proxyId: string; hlsIdleMs: number; log: Logger },
  ) {}

  /** An MPEG-TS player now attached to `stream`; its session ends when `socket` closes. */
  trackTs(player: Player, stream: Watched, socket: Socket, sentBefore: number): void {
    if (socket.destroyed) return;
    const started = this.start(player, stream, 'ts');
    const bytesOut = (): number => Math.max(0, socket.bytesWritten - sentBefore);
    this.live.set(started.playerId, { started, bytesOut, cut: () => socket.destroy() });
    socket.once('close', () => this.end(started.playerId));
  }

  /**
   * An HLS request of `player` on `session` begins (a playlist or a segment); call the returned function with
   * the bytes sent when it ends, answered or not. A player with a request in flight (waiting for a slow
   * engine) is never idle.
   */
  hlsRequest(player: Player, session: Watched): (bytes: number) => void {
    const viewer = `${session.id}\n${player.client.key}\n${player.identity.userAgent}`;
    let entry = this.hlsByViewer.get(viewer);
    if (!entry || !this.live.has(entry.playerId)) {
      const started = this.start(player, session, 'hls');
      const fresh = { playerId: started.playerId, lastSeen: Date.now(), bytes: 0, inFlight: 0 };
      this.hlsByViewer.set(viewer, fresh);
      this.live.set(started.playerId, {
        started,
        bytesOut: () => fresh.bytes,
        cut: () => this.endHls(viewer),
      });
      this.sweeper ??= setInterval(() => this.sweepHls(), HLS_SWEEP_MS);
      entry = fresh;
    }
    const current = entry;
    current.inFlight++;
    current.lastSeen = Date.now();
    return (bytes) => {
      current.inFlight--;
      current.bytes += bytes;
      current.lastSeen = Date.now();
    };
  }

  /** Cut off every player of token `name` (it was revoked); how many there were. */
  cutToken(name: string): number {
    const theirs = [...this.live.values()].filter((s) => s.started.player.token === name);
    for (const session of theirs) session.cut();
    return theirs.length;
  }

  list(): ProxyPlayersReply['players'] {
    return [...this.live.values()].map((s) => ({ ...s.started, bytesOut: s.bytesOut() }));
  }

  /** End every HLS session (shutdown); TS sessions end as their connections close. */
  close(): void {
    for (const viewer of [...this.hlsByViewer.keys()]) this.endHls(viewer);
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  private start(player: Player, watched: Watched, kind: 'ts' | 'hls'): PlayerSessionStarted {
    const started: PlayerSessionStarted = {
      playerId: randomUUID(),
      streamId: watched.id,
      proxyId: this.deps.proxyId,
      kind,
      content: watched.content,
      player: player.identity,
      startedAt: new Date().toISOString(),
    };
    this.deps.events.publish(
      playerEventSubject('started', started.proxyId),
      started,
      `${started.playerId}:started`,
    );
    this.deps.log.debug(
      { playerId: started.playerId, streamId: watched.id, tokenName: player.token?.name },
      'player session started',
    );
    return started;
  }

  private end(playerId: string): void {
    const session = this.live.get(playerId);
    if (!session) return;
    this.live.delete(playerId);
    const ended: PlayerSessionEnded = {
      ...session.started,
      endedAt: new Date().toISOString(),
      bytesOut: session.bytesOut(),
    };
    this.deps.events.publish(playerEventSubject('ended', ended.proxyId), ended, `${playerId}:ended`);
  }

  private endHls(viewer: string): void {
    const entry = this.hlsByViewer.get(viewer);
    if (!entry) return;
    this.hlsByViewer.delete(viewer);
    this.end(entry.playerId);
    if (this.hlsByViewer.size === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  private sweepHls(): void {
    const idleSince = Date.now() - this.deps.hlsIdleMs;
    for (const [viewer, entry] of this.hlsByViewer) {
      if (entry.inFlight === 0 && entry.lastSeen < idleSince) this.endHls(viewer);
    }
  }
}
