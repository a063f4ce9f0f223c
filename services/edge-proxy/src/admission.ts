import { AcefleetError } from '@acefleet/contracts';

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

/** Who admission counts streams against: a player token, or a client address; each with its own limit. */
export interface AdmissionClient {
  key: string;
  maxStreams: number;
}

/** Gives back a slot taken by `admit`; calling it again does nothing. */
export type Release = () => void;

/** How long a refused player should wait: streams and players come and go within seconds. */
const RETRY_AFTER_MS = 5000;

/**
 * Whether a request may take one more stream or player: per client (429; a player token, or else an
 * address), then proxy-wide (503). Each admitted request holds a slot on its stream key for its client until
 * it gives it back.
 */
export class Admission {
  /** Per client: the stream keys it holds, with how many requests hold each. */
  private readonly byClient = new Map<string, Map<string, number>>();

  constructor(
    private readonly limits: AdmissionLimits,
    private readonly load: ProxyLoad,
  ) {}

  /**
   * Let `client` in on stream `key` or throw the limit it would cross. `opensStream`: no stream of this key
   * runs yet; `asPlayer`: the request stays attached as an MPEG-TS player.
   */
  admit(client: AdmissionClient, key: string, opts: { opensStream: boolean; asPlayer: boolean }): Release {
    const held = this.byClient.get(client.key) ?? new Map<string, number>();
    if (!held.has(key) && held.size >= client.maxStreams) {
      const who = client.key.startsWith('token:') ? 'this token' : 'this client';
      throw new AcefleetError(
        'too_many_client_streams',
        `${who} already plays ${held.size} streams (at most ${client.maxStreams})`,
        { retryAfterMs: RETRY_AFTER_MS },
      );
    }
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
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.give(client.key, key);
    };
  }

  private give(client: string, key: string): void {
    const held = this.byClient.get(client);
    const left = (held?.get(key) ?? 0) - 1;
    if (!held) return;
    if (left > 0) held.set(key, left);
    else held.delete(key);
    if (held.size === 0) this.byClient.delete(client);
  }
}
