import type { NatsConnection } from '@nats-io/nats-core';
import { Type } from '@sinclair/typebox';
import {
  CHANNELS_BUCKET,
  ChannelKeys,
  ChannelRecord,
  PlaylistSource,
  channelKeyOf,
  type ContentRef,
} from '@acefleet/contracts';
import { KvMirror, type Logger } from '@acefleet/platform';

const CHANNEL_PREFIX = `${ChannelKeys.channel}.`;
const SOURCE_PREFIX = `${ChannelKeys.source}.`;

/** What a key of the bucket holds; which one it is, its prefix says. */
const BucketValue = Type.Union([ChannelRecord, PlaylistSource]);

function isChannel(key: string, value: ChannelRecord | PlaylistSource): value is ChannelRecord {
  return key.startsWith(CHANNEL_PREFIX) && 'content' in value;
}

function isSource(key: string, value: ChannelRecord | PlaylistSource): value is PlaylistSource {
  return key.startsWith(SOURCE_PREFIX) && 'guideUrls' in value;
}

/**
 * The channels bucket as a reader needs it, kept current: channels by guide number or by content, and the
 * playlist sources with their guides. Every proxy serves from one of these, stats names streams with one. One
 * mirror follows the whole bucket (channels and sources), so each change is read once.
 */
export class ChannelDirectory {
  private readonly mirror: KvMirror<typeof BucketValue>;
  private sorted: { version: number; channels: ChannelRecord[] } = { version: -1, channels: [] };
  private channelChanges = 0;

  /** The bucket must exist (openChannelsKv makes it). */
  constructor(nc: NatsConnection, log: Logger) {
    this.mirror = new KvMirror(nc, CHANNELS_BUCKET, log, {
      schema: BucketValue,
      what: 'channel or source',
      onChange: (key) => {
        if (key.startsWith(CHANNEL_PREFIX)) this.channelChanges++;
      },
    });
  }

  start(): Promise<void> {
    return this.mirror.start();
  }

  stop(): Promise<void> {
    return this.mirror.stop();
  }

  /** Every channel, by guide number (then name). */
  channels(): ChannelRecord[] {
    const version = this.channelChanges;
    if (this.sorted.version !== version) {
      const channels = [...this.byKey().values()].sort(
        (a, b) => a.number - b.number || a.name.localeCompare(b.name),
      );
      this.sorted = { version, channels };
    }
    return this.sorted.channels;
  }

  /** Grows with every change of a channel: what is built from the channels is stale once this moved on. */
  get version(): number {
    return this.channelChanges;
  }

  /** Every channel by its key (`ch.<kind>.<hex>`), as importPlaylist takes them. */
  byKey(): Map<string, ChannelRecord> {
    const channels = new Map<string, ChannelRecord>();
    for (const [key, value] of this.mirror.entriesByKey())
      if (isChannel(key, value)) channels.set(key, value);
    return channels;
  }

  channelOf(content: ContentRef): ChannelRecord | undefined {
    const key = channelKeyOf(content);
    const value = this.mirror.get(key);
    return value && isChannel(key, value) ? value : undefined;
  }

  sources(): PlaylistSource[] {
    const sources: PlaylistSource[] = [];
    for (const [key, value] of this.mirror.entriesByKey()) if (isSource(key, value)) sources.push(value);
    return sources;
  }
}
