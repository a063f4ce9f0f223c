import { Type, type Static } from '@sinclair/typebox';
import { ContentRef, IsoTime, type ContentRef as Content } from './schemas.ts';

/**
 * The channels players see: one KV bucket shared by every proxy (and read by stats and the CLI), so a list
 * imported once is served by all of them and survives restarts. Two kinds of keys live in it:
 * `ch.<kind>.<hex>` holds one channel (`ChannelRecord`), `src.<digest>` one playlist source (`PlaylistSource`).
 */
export const CHANNELS_BUCKET = 'acefleet-channels';
/** The JetStream stream that holds the channels bucket. */
export const CHANNELS_KV_STREAM = `KV_${CHANNELS_BUCKET}`;

/** KV key prefixes of the channels bucket (watch `ch.>` for the channels alone). */
export const ChannelKeys = { channel: 'ch', source: 'src' } as const;

/** The key of the channel that plays `content` (one channel per content, whichever source named it). */
export function channelKeyOf(content: Content): string {
  return `${ChannelKeys.channel}.${content.kind}.${content.value.toLowerCase()}`;
}

const Text = (maxLength: number) => Type.String({ minLength: 1, maxLength });

/** One channel, as an M3U entry named it; `number` is its guide number (HDHomeRun `GuideNumber`, `tvg-chno`). */
export const ChannelRecord = Type.Object({
  content: ContentRef,
  name: Text(200),
  number: Type.Integer({ minimum: 1, maximum: 999_999 }),
  tvgId: Type.Optional(Text(200)),
  tvgName: Type.Optional(Text(200)),
  logo: Type.Optional(Text(2000)),
  group: Type.Optional(Text(200)),
  /** The playlist it was imported from (a file path, a URL without credentials, or `upload:<name>`). */
  source: Text(2000),
  updatedAt: IsoTime,
});
export type ChannelRecord = Static<typeof ChannelRecord>;

/** One imported playlist: the guides its header names (`url-tvg`, `x-tvg-url`) and how many channels it gave. */
export const PlaylistSource = Type.Object({
  source: Text(2000),
  guideUrls: Type.Array(Text(2000), { maxItems: 16 }),
  channels: Type.Integer({ minimum: 0 }),
  importedAt: IsoTime,
});
export type PlaylistSource = Static<typeof PlaylistSource>;

/** An entry of a playlist that was not imported, and why. */
export const SkippedEntry = Type.Object({
  line: Type.Integer({ minimum: 1 }),
  reason: Text(500),
});
export type SkippedEntry = Static<typeof SkippedEntry>;

/** What one import changed: channels added, updated, unchanged, removed (gone from the source), skipped. */
export const ImportReport = Type.Object({
  source: Text(2000),
  added: Type.Integer({ minimum: 0 }),
  updated: Type.Integer({ minimum: 0 }),
  unchanged: Type.Integer({ minimum: 0 }),
  removed: Type.Integer({ minimum: 0 }),
  skipped: Type.Array(SkippedEntry),
  guideUrls: Type.Array(Text(2000)),
});
export type ImportReport = Static<typeof ImportReport>;

/** The admin API's import: a source to read (file or URL, as the proxy sees it), or a playlist's text. */
export const ImportRequest = Type.Union([
  Type.Object({ source: Text(2000) }, { additionalProperties: false }),
  Type.Object(
    { name: Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' }), playlist: Type.String({ minLength: 1 }) },
    { additionalProperties: false },
  ),
]);
export type ImportRequest = Static<typeof ImportRequest>;

export const ChannelsReply = Type.Object({
  channels: Type.Array(ChannelRecord),
  sources: Type.Array(PlaylistSource),
});
export type ChannelsReply = Static<typeof ChannelsReply>;

export const RemoveChannelsReply = Type.Object({ removed: Type.Array(ChannelRecord) });
export type RemoveChannelsReply = Static<typeof RemoveChannelsReply>;
