import { AcefleetError } from '@acefleet/contracts';
import type { LingeringStreams } from './lingering.ts';

export interface AdmissionLimits {
  maxStreams: number;
  maxPlayers: number;
}

/** What the proxy holds now, as admission needs to know it. */
export interface ProxyLoad {
  /** Engine sessions held: TS streams plus HLS sessions. */
  streams(): number;
  /** MPEG-TS players attached or waiting. */
  players(): number;
  /** The rings of all streams hold the proxy's ring memory cap (see ring-memory.ts). */
  ringMemoryFull(): boolean;
}

/** Who admission counts streams against: a player token, or else a client address; each with its own limit. */
export interface AdmissionClient {
  key: string;
  maxStreams: number;
}

/** The lingering streams a client left, which count toward its share (see FairShare in app.ts). */
export interface LingeringShare {
  lingering: LingeringStreams;
  /** Whether the stream of `key` lingers now: no player, its engine held. */
  lingers(key: string): boolean;
  /** End the lingering stream of `key`, giving its engine back. */
  reclaim(key: string): void;
}

/** Gives back a slot taken by `admit`; calling it again does nothing. */
export type Release = () => void;

/** How long a refused player should wait: streams and players come and go within seconds. */
const RETRY_AFTER_MS = 5000;

/**
 * Whether a request may take one more stream or player: per client (429; a player token, or else an
 * address), then proxy-wide (503). Each admitted request holds a slot on its stream key for its client until it
 * gives it back. A client's share (its token's limit, else MAX_STREAMS_PER_CLIENT) counts the streams it plays
 * and those it left lingering: over it, its own oldest lingering stream gives way, and only a client with none
 * left lingering is refused.
 */
export class Admission {
  /** Per client: the stream keys it holds, with how many requests hold each. */
  private readonly byClient = new Map<string, Map<string, number>>();

  constructor(
    private readonly limits: AdmissionLimits,
    private readonly load: ProxyLoad,
    private readonly share: LingeringShare,
  ) {}

  /**
   * Let `client` in on stream `key` or throw the limit it would cross. `opensStream`: no stream of this key
   * runs yet; `asPlayer`: the request stays attached as an MPEG-TS player.
   */
  admit(client: AdmissionClient, key: string, opts: { opensStream: boolean; asPlayer: boolean }): Release {
    const held = this.byClient.get(client.key) ?? new Map<string, number>();
    if (!held.has(key)) this.makeRoom(client, held);
    if (opts.opensStream && this.load.streams() >= this.limits.maxStreams) {
      throw new AcefleetError(
        'too_many_streams',
        `the proxy plays its maximum of ${this.limits.maxStreams} streams`,
        {
          retryAfterMs: RETRY_AFTER_MS,
        },
      );
    }
    if (opts.opensStream && opts.asPlayer && this.load.ringMemoryFull()) {
      throw new AcefleetError('ring_memory_full', 'the proxy holds as much stream buffer as it may', {
        retryAfterMs: RETRY_AFTER_MS,
      });
    }
    if (opts.asPlayer && this.load.players() >= this.limits.maxPlayers) {
      throw new AcefleetError(
        'too_many_players',
        `the proxy serves its maximum of ${this.limits.maxPlayers} players`,
        {
          retryAfterMs: RETRY_AFTER_MS,
        },
      );
    }
    held.set(key, (held.get(key) ?? 0) + 1);
    this.byClient.set(client.key, held);
    this.share.lingering.forget(key);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.give(client.key, key, opts.asPlayer);
    };
  }

  /**
   * A new stream key for `client`: within its share, or its own oldest lingering stream gives way; with none
   * lingering it is refused (429).
   */
  private makeRoom(client: AdmissionClient, held: ReadonlyMap<string, number>): void {
    const max = client.maxStreams;
    const lingering = this.share.lingering.of(client.key, (k) => !held.has(k) && this.share.lingers(k));
    if (held.size + lingering.length < max) return;
    const [oldest] = lingering;
    if (oldest === undefined) {
      throw new AcefleetError(
        'too_many_client_streams',
        `${client.key.startsWith('token:') ? 'this token' : 'this client'} already plays ${held.size} streams (at most ${max})`,
        {
          retryAfterMs: RETRY_AFTER_MS,
        },
      );
    }
    this.share.reclaim(oldest);
  }

  /** A slot given back; a player's last one on `key` leaves the stream to linger in this client's name. */
  private give(client: string, key: string, asPlayer: boolean): void {
    const held = this.byClient.get(client);
    const left = (held?.get(key) ?? 0) - 1;
    if (!held) return;
    if (left > 0) held.set(key, left);
    else {
      held.delete(key);
      if (asPlayer) this.share.lingering.leftBy(key, client);
    }
    if (held.size === 0) this.byClient.delete(client);
  }
}
