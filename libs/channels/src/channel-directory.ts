import type { NatsConnection } from '@nats-io/nats-core';
import {
  CHANNELS_BUCKET,
  ChannelKeys,
  ChannelRecord,
  PlaylistSource,
  channelKeyOf,
  type ContentRef,
} from '@acefleet/contracts';
import { KvMirror, type Logger } from '@acefleet/platform';

/**
 * The channels bucket as a reader needs it, kept current: channels by guide number or by content, and the
 * playlist sources with their guides. Every proxy serves from one of these, stats names streams with one.
 */
export class ChannelDirectory {
  private readonly channelMirror: KvMirror<typeof ChannelRecord>;
  private readonly sourceMirror: KvMirror<typeof PlaylistSource>;
  private sorted: { version: number; channels: ChannelRecord[] } = { version: -1, channels: [] };

  /** The bucket must exist (openChannelsKv makes it). */
  constructor(nc: NatsConnection, log: Logger) {
    this.channelMirror = new KvMirror(nc, CHANNELS_BUCKET, log, {
      keys: `${ChannelKeys.channel}.>`,
      schema: ChannelRecord,
      what: 'channel',
    });
    this.sourceMirror = new KvMirror(nc, CHANNELS_BUCKET, log, {
      keys: `${ChannelKeys.source}.>`,
      schema: PlaylistSource,
      what: 'playlist source',
    });
  }

  async start(): Promise<void> {
    await Promise.all([this.channelMirror.start(), this.sourceMirror.start()]);
  }

  async stop(): Promise<void> {
    await Promise.all([this.channelMirror.stop(), this.sourceMirror.stop()]);
  }

  /** Every channel, by guide number (then name). */
  channels(): ChannelRecord[] {
    const version = this.channelMirror.version;
    if (this.sorted.version !== version) {
      const channels = this.channelMirror
        .values()
        .sort((a, b) => a.number - b.number || a.name.localeCompare(b.name));
      this.sorted = { version, channels };
    }
    return this.sorted.channels;
  }

  /** Grows with every change: what is built from the channels is stale once this moved on. */
  get version(): number {
    return this.channelMirror.version + this.sourceMirror.version;
  }

  /** Every channel by its key (`ch.<kind>.<hex>`), as importPlaylist takes them. */
  byKey(): Map<string, ChannelRecord> {
    return new Map(this.channelMirror.entriesByKey());
  }

  channelOf(content: ContentRef): ChannelRecord | undefined {
    return this.channelMirror.get(channelKeyOf(content));
  }

  sources(): PlaylistSource[] {
    return this.sourceMirror.values();
  }
}
