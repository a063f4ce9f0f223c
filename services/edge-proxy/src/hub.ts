import type { EndReason } from '@acefleet/contracts';
import type { StreamSelector } from './selector.ts';
import { Stream, type StreamDeps } from './stream.ts';

/** Every open stream of this proxy, one per stream key (content plus output options): the multiplexing point. */
export class StreamHub {
  private readonly streams = new Map<string, Stream>();

  constructor(private readonly deps: Omit<StreamDeps, 'onEnded' | 'totalClients'>) {}

  /** The stream already playing this content with these options, or a new one. */
  open({ key, content, options }: StreamSelector): Stream {
    const existing = this.get(key);
    if (existing) return existing;
    const stream = new Stream(content, options, {
      ...this.deps,
      totalClients: () => this.clientCount(),
      onEnded: (s) => {
        if (this.streams.get(key) === s) this.streams.delete(key);
      },
    });
    this.streams.set(key, stream);
    return stream;
  }

  /** The live (not ended) stream of a stream key. */
  get(key: string): Stream | undefined {
    const stream = this.streams.get(key);
    return stream && stream.state !== 'ended' ? stream : undefined;
  }

  all(): Stream[] {
    return [...this.streams.values()];
  }

  /** Players attached or waiting for their first bytes, over every stream. */
  clientCount(): number {
    let n = 0;
    for (const s of this.streams.values()) n += s.clientCount;
    return n;
  }

  closeAll(reason: EndReason): void {
    for (const stream of this.all()) stream.end(reason);
  }
}
