// What every handler shares: settings, the clip and its timeline, the start profile, faults, sessions, logger
// and the timers close() cancels.
import type { FaultStore } from './faults.ts';
import type { Logger } from './log.ts';
import type { Media } from './media.ts';
import type { Profile, ProfileName } from './profile.ts';
import type { SessionRegistry } from './sessions.ts';
import type { Timeline } from './timeline.ts';

export interface SimSettings {
  mediaPath: string;
  /** Playback bitrate; the clip's own bitrate unless set. */
  bitrateBps: number;
  burstSeconds: number;
  idleTimeoutMs: number;
  tickMs: number;
  segmentSeconds: number;
  /** Added to the wall clock before it is mapped to the channels' timeline. */
  clockOffsetMs: number;
  profile: ProfileName;
  /** The seed of the profile's warm-ups. */
  seed: number;
  /** The P2P port the engine was given (`--port`); only reported. */
  p2pPort: number | null;
}

export interface SimContext {
  settings: Readonly<SimSettings>;
  media: Media;
  timeline: Timeline;
  profile: Profile;
  faults: FaultStore;
  sessions: SessionRegistry;
  log: Logger;
  /** A timer that close() cancels; `fn` never runs after close. */
  later(ms: number, fn: () => void): void;
}
