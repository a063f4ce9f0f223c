// What every handler shares: settings, the clip, faults, sessions, logger and the timers close() cancels.
import type { FaultStore } from './faults.ts';
import type { Logger } from './log.ts';
import type { Media } from './media.ts';
import type { SessionRegistry } from './sessions.ts';

export interface SimSettings {
  mediaPath: string;
  /** Playback bitrate; the clip's own bitrate unless set. */
  bitrateBps: number;
  burstSeconds: number;
  idleTimeoutMs: number;
  tickMs: number;
  segmentSeconds: number;
  /** The P2P port the engine was given (`--port`); only reported. */
  p2pPort: number | null;
}

export interface SimContext {
  settings: Readonly<SimSettings>;
  media: Media;
  faults: FaultStore;
  sessions: SessionRegistry;
  log: Logger;
  /** A timer that close() cancels; `fn` never runs after close. */
  later(ms: number, fn: () => void): void;
}
