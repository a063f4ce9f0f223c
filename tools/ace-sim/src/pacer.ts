// Plays the looped clip into one response at a steady bitrate: a burst first (the engine's buffered
// live window), then the bytes owed every tick, whole TS packets only, never past the socket's backpressure.
import type { Writable } from 'node:stream';
import { badDocument, badStreamSlice } from './bad-body.ts';
import type { Faults } from './faults.ts';
import { TS_PACKET, loopSlice, type Media } from './media.ts';

export type PacerEnd = 'eof' | 'closed' | 'stopped';

export interface PacerOptions {
  media: Media;
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

export function startPacer(opts: PacerOptions): Pacer {
  const { media, out } = opts;
  const bytesPerMs = opts.bitrateBps / 8 / 1000;
  const burstBytes = opts.burstSeconds * opts.bitrateBps * 0.125;
  // Debt is capped so a slow reader gets at most this much in one go after a drain, not everything owed.
  const maxCredit = Math.max(burstBytes, bytesPerMs * 1000);
  const startedAt = performance.now();
  let lastTick = startedAt;
  let credit = burstBytes;
  let offset = 0;
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

  const tick = (): void => {
    const now = performance.now();
    const elapsed = now - startedAt;
    credit = Math.min(maxCredit, credit + (now - lastTick) * bytesPerMs);
    lastTick = now;
    const faults = opts.faults();
    if (faults.eofAfterMs !== null && elapsed >= faults.eofAfterMs) return end('eof');
    if (faults.stallAfterMs !== null && elapsed >= faults.stallAfterMs) {
      credit = 0;
      return;
    }
    const document = faults.badBody && badDocument(faults.badBody);
    if (document) {
      out.write(document.body);
      opts.onBytes(document.body.length);
      return end('eof');
    }
    if (draining) return;
    const n = Math.floor(credit / TS_PACKET) * TS_PACKET;
    if (n === 0) return;
    credit -= n;
    let ok = true;
    if (faults.badBody) {
      ok = out.write(badStreamSlice(faults.badBody, badOffset, n));
      badOffset += n;
    } else {
      for (const piece of loopSlice(media, offset, n)) ok = out.write(piece) && ok;
      offset = (offset + n) % media.bytes.length;
    }
    opts.onBytes(n);
    if (!ok) {
      draining = true;
      out.once('drain', () => {
        draining = false;
      });
    }
  };

  const timer = setInterval(tick, opts.tickMs);
  out.on('close', onClose);
  tick();
  return { finish: (why) => end(why) };
}
