import { contentKeyOf, type ContentRef, type EndReason } from '@acefleet/contracts';
import { Stream, type StreamDeps } from './stream.ts';

/** Every open stream of this proxy, one per content: the multiplexing point. */
export class StreamHub {
  private readonly streams = new Map<string, Stream>();

  constructor(private readonly deps: Omit<StreamDeps, 'onEnded' | 'totalClients'>) {}

  /** The stream already playing this content, or a new one. */
  open(content: ContentRef, extraParams: Record<string, string>): Stream {
    const key = contentKeyOf(content);
    const existing = this.streams.get(key);
    if (existing && existing.state !== 'ended') return existing;
    const stream = new Stream(content, extraParams, {
      ...this.deps,
      totalClients: () => this.clientCount(),
      onEnded: (s) => {
        if (this.streams.get(key) === s) this.streams.delete(key);
      },
    });
    this.streams.set(key, stream);
    return stream;
  }

  get(content: ContentRef): Stream | undefined {
    return this.streams.get(contentKeyOf(content));
  }

  all(): Stream[] {
    return [...this.streams.values()];
  }

  clientCount(): number {
    let n = 0;
    for (const s of this.streams.values()) n += s.viewers.size;
    return n;
  }

  closeAll(reason: EndReason): void {
    for (const stream of this.all()) stream.end(reason);
  }
}
