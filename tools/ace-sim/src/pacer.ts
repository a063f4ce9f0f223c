// Plays a channel's timeline into one response at a steady bitrate: a burst first (the engine's buffered
// live window), then the packets owed every tick, whole TS packets only, never past the socket's
// backpressure. Faults are read every tick, so switching one on mid-stream applies at once.
import type { Writable } from 'node:stream';
import { PACKET_SIZE } from '@acefleet/mpegts';
import { badDocument, badStreamSlice } from './bad-body.ts';
import type { Faults } from './faults.ts';
import { Freezer, type FreezeKind } from './freeze.ts';
import type { Media } from './media.ts';
import type { Timeline } from './timeline.ts';

/** eof: the body ended by a fault; cut: the engine ended the session; closed: the reader left. */
export type PacerEnd = 'eof' | 'cut' | 'closed' | 'stopped';

export interface PacerOptions {
  media: Media;
  timeline: Timeline;
  /** The content's phase on the timeline (see Timeline.phaseOf). */
  phase: number;
  out: Writable;
  bitrateBps: number;
  burstSeconds: number;
  tickMs: number;
  /** Read every tick, so faults switched on mid-stream apply at once. */
  faults: () => Faults;
  onBytes: (n: number) => void;
  onEnd: (why: PacerEnd) => void;
}

export interface Pacer {
  /** Ends the body (EOF) and stops pacing. */
  finish(why: 'eof' | 'stopped'): void;
}

const NOTHING_FROZEN: ReadonlySet<FreezeKind> = new Set();

function frozenKinds(faults: Faults): ReadonlySet<FreezeKind> {
  if (!faults.frozenVideo && !faults.frozenAudio) return NOTHING_FROZEN;
  const kinds = new Set<FreezeKind>();
  if (faults.frozenVideo) kinds.add('video');
  if (faults.frozenAudio) kinds.add('audio');
  return kinds;
}

export function startPacer(opts: PacerOptions): Pacer {
  const { out, timeline } = opts;
  const burstPackets = Math.floor((opts.burstSeconds * opts.bitrateBps) / 8 / PACKET_SIZE);
  const freezer = new Freezer(opts.media);
  const startedAt = performance.now();
  let lastTick = startedAt;
  let credit = burstPackets * PACKET_SIZE;
  /** The next packet of the timeline this reader gets: the live edge, less the burst. */
  let next = timeline.livePacket(opts.phase) - burstPackets;
  /** Bytes of a bad body sent so far (its container header comes first). */
  let badOffset = 0;
  let draining = false;
  let done = false;

  const end = (why: PacerEnd): void => {
    if (done) return;
    done = true;
    clearInterval(timer);
    out.off('close', onClose);
    if (why !== 'closed') out.end();
    opts.onEnd(why);
  };
  const onClose = (): void => end('closed');

  const write = (pieces: Buffer[]): void => {
    let ok = true;
    let bytes = 0;
    for (const piece of pieces) {
      ok = out.write(piece) && ok;
      bytes += piece.length;
    }
    opts.onBytes(bytes);
    if (!ok) {
      draining = true;
      out.once('drain', () => {
        draining = false;
      });
    }
  };

  const tick = (): void => {
    const now = performance.now();
    const elapsed = now - startedAt;
    const faults = opts.faults();
    // slowBody: the engine gets the stream from its peers slower than it plays.
    const bitrate =
      faults.slowBody === null ? opts.bitrateBps : Math.min(opts.bitrateBps, faults.slowBody * 1000);
    // Debt is capped so a slow reader gets at most this much in one go after a drain, not everything owed.
    const maxCredit = Math.max(burstPackets * PACKET_SIZE, bitrate / 8);
    credit = Math.min(maxCredit, credit + ((now - lastTick) * bitrate) / 8000);
    lastTick = now;
    if (faults.cutAfterMs !== null && elapsed >= faults.cutAfterMs) return end('cut');
    if (faults.eofAfterMs !== null && elapsed >= faults.eofAfterMs) return end('eof');
    if (faults.stallAfterMs !== null && elapsed >= faults.stallAfterMs) {
      credit = 0;
      return;
    }
    const document = faults.badBody && badDocument(faults.badBody);
    if (document) {
      write([document.body]);
      return end('eof');
    }
    if (draining) return;
    const packets = Math.floor(credit / PACKET_SIZE);
    if (packets === 0) return;
    credit -= packets * PACKET_SIZE;
    if (faults.badBody) {
      write([badStreamSlice(faults.badBody, badOffset, packets * PACKET_SIZE)]);
      badOffset += packets * PACKET_SIZE;
      return;
    }
    const pieces = timeline.slice(next, packets);
    next += packets;
    write(freezer.apply(pieces, frozenKinds(faults)));
  };

  const timer = setInterval(tick, opts.tickMs);
  out.on('close', onClose);
  tick();
  return { finish: (why) => end(why) };
}
