import { createHash } from 'node:crypto';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import {
  AcefleetError,
  CHANNELS_BUCKET,
  DEFAULT_KV_MAX_BYTES,
  ChannelKeys,
  ChannelRecord,
  PlaylistSource,
  channelKeyOf,
  compiledParser,
  type ImportReport,
} from '@acefleet/contracts';
import { kvSnapshot } from '@acefleet/platform';
import { parseM3u, type ParsedPlaylist, type PlaylistEntry } from './m3u.ts';
import { readSource, sourceName, type SourceLimits } from './source.ts';

/** Writes in flight at once: a 10 000-channel import must not wait for 10 000 round trips. */
const CONCURRENCY = 512;

/** Open (creating if needed) the channels bucket. */
export function openChannelsKv(nc: NatsConnection, replicas = 1): Promise<KV> {
  return new Kvm(nc).create(CHANNELS_BUCKET, { history: 1, replicas, max_bytes: DEFAULT_KV_MAX_BYTES });
}

/** The key of a playlist source's record. */
export function sourceKeyOf(source: string): string {
  return `${ChannelKeys.source}.${createHash('sha256').update(source).digest('hex').slice(0, 32)}`;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Run `run` over `items` with at most CONCURRENCY in flight (a sliding window: no wait for the slowest of a batch). */
async function inParallel<T, R>(items: T[], run: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await run(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
  return out;
}

/** Every value under `prefix.>` that its parser takes; malformed ones are left out. */
async function readAll<T>(
  nc: NatsConnection,
  prefix: string,
  read: (value: unknown) => T,
): Promise<Map<string, T>> {
  const out = new Map<string, T>();
  for (const entry of (await kvSnapshot(nc, CHANNELS_BUCKET, `${prefix}.>`)).entries) {
    if (entry.operation !== 'PUT') continue;
    try {
      out.set(entry.key, read(JSON.parse(decoder.decode(entry.value))));
    } catch {
      // Left out: a record no reader can use (the proxies' mirrors skip it the same way).
    }
  }
  return out;
}

const parseChannel = compiledParser(ChannelRecord, 'channel');
const parseSource = compiledParser(PlaylistSource, 'playlist source');

/** Every channel by key (the bucket must exist: openChannelsKv makes it). */
export function readChannels(nc: NatsConnection): Promise<Map<string, ChannelRecord>> {
  return readAll(nc, ChannelKeys.channel, parseChannel);
}

/** Every playlist source by key. */
export function readSources(nc: NatsConnection): Promise<Map<string, PlaylistSource>> {
  return readAll(nc, ChannelKeys.source, parseSource);
}

/** The fields an import sets; a channel whose fields are all equal is left untouched. */
function sameChannel(a: ChannelRecord, b: ChannelRecord): boolean {
  const { updatedAt: _a, ...left } = a;
  const { updatedAt: _b, ...right } = b;
  return JSON.stringify(left, Object.keys(left).sort()) === JSON.stringify(right, Object.keys(right).sort());
}

function recordOf(entry: PlaylistEntry, source: string, number: number, now: string): ChannelRecord {
  const { line: _line, number: _wanted, ...fields } = entry;
  return { ...fields, number, source, updatedAt: now };
}

/**
 * Guide numbers: a channel keeps the one it has; a new one takes its playlist's `tvg-chno` when no other
 * channel has it, else the next number after the highest in use.
 */
function numberer(
  current: ReadonlyMap<string, ChannelRecord>,
): (entry: PlaylistEntry, existing?: ChannelRecord) => number {
  const used = new Set([...current.values()].map((c) => c.number));
  let next = Math.max(0, ...used) + 1;
  return (entry, existing) => {
    if (existing) return existing.number;
    const n = entry.number !== undefined && !used.has(entry.number) ? entry.number : next++;
    used.add(n);
    next = Math.max(next, n + 1);
    return n;
  };
}

/**
 * Write channels as plain publishes on the bucket's subjects (a KV put is a message on `$KV.<bucket>.<key>`),
 * flushed: 10 000 in about 0.2 s, where one acknowledged put each takes 1-2 s, and ten times that on a busy
 * machine. JetStream stores one connection's messages in the order they came, so the acknowledged write of
 * the source record that follows (importPlaylist) is stored after every one of them, or fails if they could
 * not be.
 */
async function publishChannels(nc: NatsConnection, writes: [string, ChannelRecord][]): Promise<void> {
  for (const [key, record] of writes) nc.publish(`$KV.${CHANNELS_BUCKET}.${key}`, JSON.stringify(record));
  await nc.flush();
}

/**
 * Make the bucket hold what `playlist` says for `source`: its channels added or updated (one channel per
 * content, keyed by it), channels this source gave before and no longer names removed, and the source's
 * record (its guides) written. A playlist with no readable entry changes nothing and throws
 * `invalid_playlist`: an empty or broken answer must not wipe what was imported before. `current`: the
 * channels by key, from a live copy when the caller keeps one (a proxy); else they are read from the bucket.
 */
export async function importPlaylist(
  nc: NatsConnection,
  source: string,
  playlist: ParsedPlaylist,
  current?: ReadonlyMap<string, ChannelRecord>,
): Promise<ImportReport> {
  if (playlist.entries.length === 0) {
    const first = playlist.skipped[0];
    throw new AcefleetError(
      'invalid_playlist',
      first ? `no entry could be read (line ${first.line}: ${first.reason})` : 'the playlist has no entries',
    );
  }
  const kv = await openChannelsKv(nc);
  const now = new Date().toISOString();
  const channels = current ?? (await readChannels(nc));
  const numberOf = numberer(channels);
  const report: ImportReport = {
    source,
    added: 0,
    updated: 0,
    unchanged: 0,
    removed: 0,
    skipped: playlist.skipped,
    guideUrls: playlist.guideUrls,
  };
  const writes: [string, ChannelRecord][] = [];
  const named = new Set<string>();
  for (const entry of playlist.entries) {
    const key = channelKeyOf(entry.content);
    named.add(key);
    const existing = channels.get(key);
    const record = recordOf(entry, source, numberOf(entry, existing), now);
    if (existing && sameChannel(existing, record)) report.unchanged++;
    else {
      writes.push([key, record]);
      if (existing) report.updated++;
      else report.added++;
    }
  }
  const gone = [...channels].filter(([key, c]) => c.source === source && !named.has(key)).map(([key]) => key);
  report.removed = gone.length;
  await publishChannels(nc, writes);
  await inParallel(gone, (key) => kv.delete(key));
  const sourceRecord: PlaylistSource = {
    source,
    guideUrls: playlist.guideUrls,
    channels: playlist.entries.length,
    importedAt: now,
  };
  await kv.put(sourceKeyOf(source), encoder.encode(JSON.stringify(sourceRecord)));
  return report;
}

/**
 * Remove channels: by name (any case), by content id or infohash (40 hex), or every channel of a source (its
 * name as `channels ls` shows it; its record goes too). Throws `channel_not_found` when nothing matches.
 */
export async function removeChannels(
  nc: NatsConnection,
  what: { channel: string } | { source: string },
): Promise<ChannelRecord[]> {
  const kv = await openChannelsKv(nc);
  const current = await readChannels(nc);
  let matches: [string, ChannelRecord][];
  if ('source' in what) {
    matches = [...current].filter(([, c]) => c.source === what.source);
  } else {
    const wanted = what.channel.trim().toLowerCase();
    matches = [...current].filter(([, c]) => c.content.value === wanted || c.name.toLowerCase() === wanted);
  }
  const sources = 'source' in what ? await readSources(nc) : new Map<string, PlaylistSource>();
  const sourceKey = 'source' in what ? sourceKeyOf(what.source) : undefined;
  if (matches.length === 0 && !(sourceKey && sources.has(sourceKey))) {
    const name = 'source' in what ? `source ${what.source}` : what.channel;
    throw new AcefleetError('channel_not_found', `no channel matches ${name}`);
  }
  await inParallel(matches, ([key]) => kv.delete(key));
  if (sourceKey && sources.has(sourceKey)) await kv.delete(sourceKey);
  return matches.map(([, c]) => c);
}

/**
 * Read a playlist source (file or URL, within `limits`) and import it under its source name (sourceName: no
 * credentials, files by absolute path), so reading the same source again updates what it gave.
 */
export async function importSource(
  nc: NatsConnection,
  source: string,
  limits: SourceLimits,
  current?: ReadonlyMap<string, ChannelRecord>,
): Promise<ImportReport> {
  const data = await readSource(source, limits);
  return importPlaylist(nc, sourceName(source), parseM3u(data.toString('utf8')), current);
}
