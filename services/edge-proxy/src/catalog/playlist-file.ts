import type { ChannelRecord } from '@acefleet/contracts';

export interface PlaylistOptions {
  /** The proxy's public address, without a trailing slash. */
  base: string;
  /** `ts`: /ace/getstream URLs; `hls`: /ace/manifest.m3u8 URLs. */
  format: 'ts' | 'hls';
  /** `&token=…` to append to every URL, or ''. */
  token: string;
}

function attribute(name: string, value: string | number | undefined): string {
  return value === undefined ? '' : ` ${name}="${String(value).replace(/"/g, "'")}"`;
}

/** `?id=<hex>` or `?infohash=<hex>`: the query that selects a channel's content. */
function selectorOf(channel: ChannelRecord): string {
  return `?${channel.content.kind === 'id' ? 'id' : 'infohash'}=${channel.content.value}`;
}

/** The URL a player plays `channel` from. */
export function streamUrlOf(channel: ChannelRecord, opts: PlaylistOptions): string {
  const path = opts.format === 'hls' ? '/ace/manifest.m3u8' : '/ace/getstream';
  return `${opts.base}${path}${selectorOf(channel)}${opts.token}`;
}

/** An entry's #EXTINF line: tvg-id, tvg-name, tvg-logo, tvg-chno (the guide number), group-title, the name. */
function extinfOf(c: ChannelRecord): string {
  const attributes =
    attribute('tvg-id', c.tvgId) +
    attribute('tvg-name', c.tvgName ?? c.name) +
    attribute('tvg-logo', c.logo) +
    attribute('tvg-chno', c.number) +
    attribute('group-title', c.group);
  return `#EXTINF:-1${attributes},${c.name}`;
}

interface Entry {
  group: string | undefined;
  extinf: string;
  selector: string;
}

/**
 * The extended M3U of the channels, as IPTV players read it: the header names the proxy's guide (`url-tvg`
 * and `x-tvg-url`, the two spellings players look for), each #EXTINF carries tvg-id, tvg-name, tvg-logo,
 * tvg-chno and group-title, and each URL points back at the proxy. What does not depend on the request (the
 * #EXTINF lines) is built once per channel list, so a 10 000-channel playlist is a join, not a rebuild.
 */
export class PlaylistFile {
  private built: { version: number; entries: Entry[] } | undefined;

  /** `channels` in playlist order; `version` changes whenever they do. `group`: lower-cased, or all. */
  text(
    channels: () => readonly ChannelRecord[],
    version: number,
    opts: PlaylistOptions,
    group?: string,
  ): string {
    if (this.built?.version !== version) {
      const entries = channels().map((c) => ({
        group: c.group?.toLowerCase(),
        extinf: extinfOf(c),
        selector: selectorOf(c),
      }));
      this.built = { version, entries };
    }
    const guide = `${opts.base}/epg.xml${opts.token.replace(/^&/, '?')}`;
    const prefix = `${opts.base}${opts.format === 'hls' ? '/ace/manifest.m3u8' : '/ace/getstream'}`;
    const lines = [`#EXTM3U${attribute('url-tvg', guide)}${attribute('x-tvg-url', guide)}`];
    for (const e of this.built.entries) {
      if (group === undefined || e.group === group)
        lines.push(e.extinf, `${prefix}${e.selector}${opts.token}`);
    }
    return `${lines.join('\n')}\n`;
  }
}
