import { setTimeout as sleep } from 'node:timers/promises';
import { AcefleetError } from '@acefleet/contracts';
import type { RingMemory } from '../fanout/ring-memory.ts';
import { HlsViewers } from './hls-viewers.ts';
import { Segmenter, type SegmenterSettings } from './segmenter.ts';

export interface HlsOutputSettings extends SegmenterSettings {
  /** An HLS player counts as watching while it asked something within this long. */
  viewerWindowMs: number;
  /** The longest a playlist request waits for the stream's first segment. */
  firstSegmentWaitMs: number;
}

const SEGMENT_NAME = /^(\d{1,15})\.ts$/;

/**
 * A stream's HLS output: the segments the proxy cuts from the stream's own packets (no engine session of its
 * own) and the players polling them. Made at the stream's first HLS request, closed with the stream.
 */
export class HlsOutput {
  readonly segmenter: Segmenter;
  readonly viewers: HlsViewers;
  private ended: AcefleetError | undefined;

  constructor(
    private readonly settings: HlsOutputSettings,
    memory: RingMemory,
  ) {
    this.segmenter = new Segmenter(settings, memory);
    this.viewers = new HlsViewers(settings.viewerWindowMs);
  }

  /**
   * The live playlist, segments at `${base}/<n>.ts${suffix}`, once the first segment exists. Rejects with
   * why the stream ended, or engine_timeout when no segment came in time.
   */
  async playlist(base: string, suffix: string): Promise<string> {
    if (!this.segmenter.hasSegments && !this.ended) {
      const waited = new AbortController();
      await Promise.race([
        this.segmenter.whenReady(),
        sleep(this.settings.firstSegmentWaitMs, undefined, { signal: waited.signal, ref: false }).catch(
          () => undefined, // aborted: the segment came first
        ),
      ]);
      waited.abort();
    }
    if (this.ended) throw this.ended;
    if (!this.segmenter.hasSegments) {
      throw new AcefleetError(
        'engine_timeout',
        `no HLS segment in ${this.settings.firstSegmentWaitMs} ms (the stream has no key frame yet)`,
      );
    }
    return this.segmenter.playlist(base, suffix);
  }

  /** A segment by its name (`<n>.ts`); one that has left the window (or never was) is not_found. */
  segment(name: string): Buffer {
    if (this.ended) throw this.ended;
    const match = SEGMENT_NAME.exec(name);
    const segment = match ? this.segmenter.segment(Number(match[1])) : undefined;
    if (!segment) throw new AcefleetError('not_found', `segment ${name} is not in the live window`);
    this.viewers.bytesOut += segment.data.length;
    return segment.data;
  }

  /** The stream ended (`error` says why): waiting playlists answer with it, every slot is given back. */
  close(error: AcefleetError): void {
    if (this.ended) return;
    this.ended = error;
    this.segmenter.close();
    this.viewers.clear();
  }
}
