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

/** The URL a player plays `channel` from. */
export function streamUrlOf(channel: ChannelRecord, opts: PlaylistOptions): string {
  const path = opts.format === 'hls' ? '/ace/manifest.m3u8' : '/ace/getstream';
  const selector = channel.content.kind === 'id' ? 'id' : 'infohash';
  return `${opts.base}${path}?${selector}=${channel.content.value}${opts.token}`;
}

/**
 * An extended M3U of `channels` as IPTV players read it: the header names the proxy's guide (`url-tvg` and
 * `x-tvg-url`, the two spellings players look for), each #EXTINF carries tvg-id, tvg-name, tvg-logo,
 * tvg-chno (the guide number, also HDHomeRun's GuideNumber) and group-title, and each URL points back at the
 * proxy.
 */
export function renderPlaylist(channels: readonly ChannelRecord[], opts: PlaylistOptions): string {
  const guide = `${opts.base}/epg.xml${opts.token.replace(/^&/, '?')}`;
  const lines = [`#EXTM3U${attribute('url-tvg', guide)}${attribute('x-tvg-url', guide)}`];
  for (const c of channels) {
    const attributes =
      attribute('tvg-id', c.tvgId) +
      attribute('tvg-name', c.tvgName ?? c.name) +
      attribute('tvg-logo', c.logo) +
      attribute('tvg-chno', c.number) +
      attribute('group-title', c.group);
    lines.push(`#EXTINF:-1${attributes},${c.name}`, streamUrlOf(c, opts));
  }
  return `${lines.join('\n')}\n`;
}
