import type { ChannelDirectory } from '@acefleet/channels';
import { PlaylistFile, type PlaylistOptions } from './playlist-file.ts';

/** One way of asking for the playlist: the address, format and token written into it, and a group, if any. */
export type PlaylistVariant = PlaylistOptions & { group?: string };

/** Rendered playlists kept: a few addresses and tokens (each a few MB for 10 000 channels). */
const KEPT = 4;
/** How often a kept playlist whose channels changed is rendered again: one per turn, so no turn blocks long. */
const REFRESH_MS = 250;

interface Rendered {
  variant: PlaylistVariant;
  version: number;
  body: Buffer;
}

/**
 * The rendered playlists players ask for, kept and refreshed ahead: when the channels change, the kept
 * variants are rendered again in the background, one every REFRESH_MS (a render of 10 000 channels holds
 * the event loop for 20-50 ms, so they are spread out), and a player polling its playlist gets a ready
 * answer (a few ms), not a rebuild. A variant asked for the first time, or one asked for before its
 * refresh, is rendered on the request.
 */
export class PlaylistCache {
  private readonly file = new PlaylistFile();
  private readonly kept = new Map<string, Rendered>();
  private refresher: NodeJS.Timeout | undefined;

  constructor(private readonly directory: () => ChannelDirectory | undefined) {}

  get(directory: ChannelDirectory, variant: PlaylistVariant): Buffer {
    const key = [variant.base, variant.format, variant.group ?? '', variant.token].join('\n');
    const hit = this.kept.get(key);
    if (hit && hit.version === directory.version) return hit.body;
    const rendered = this.render(directory, variant);
    this.kept.delete(key);
    if (this.kept.size >= KEPT) this.kept.delete(this.kept.keys().next().value!);
    this.kept.set(key, rendered);
    this.refresher ??= setInterval(() => this.refresh(), REFRESH_MS);
    return rendered.body;
  }

  stop(): void {
    clearInterval(this.refresher);
    this.refresher = undefined;
  }

  private render(directory: ChannelDirectory, variant: PlaylistVariant): Rendered {
    const { group, ...options } = variant;
    const text = this.file.text(() => directory.channels(), directory.version, options, group);
    return { variant, version: directory.version, body: Buffer.from(text) };
  }

  private refresh(): void {
    const directory = this.directory();
    if (!directory) return;
    for (const [key, kept] of this.kept) {
      if (kept.version === directory.version) continue;
      this.kept.set(key, this.render(directory, kept.variant));
      return;
    }
  }
}
