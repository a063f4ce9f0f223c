import { AcefleetError } from '@acefleet/contracts';
import {
  openPlaybackBody,
  rewriteToBase,
  type PlaybackBody,
  type PlaybackHandlers,
} from '@acefleet/engine-client';

/** An engine playlist larger than this is not a live playlist. */
const MAX_PLAYLIST_BYTES = 256 * 1024;
/** How often the engine's playlist is read again once its segments have been read. */
const POLL_MS = 500;
/** Segment URIs remembered as read (more than any live playlist lists). */
const REMEMBERED = 64;

/** GET `url` whole (a playlist), through the same client as media bodies. */
function readText(url: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    let body: PlaybackBody | undefined;
    const fail = (error: AcefleetError): void => {
      body?.destroy();
      reject(error);
    };
    openPlaybackBody(url, timeoutMs, {
      data: (bytes) => {
        size += bytes.length;
        if (size > MAX_PLAYLIST_BYTES)
          fail(new AcefleetError('bad_media', 'the engine playlist is too large'));
        else parts.push(Buffer.from(bytes));
      },
      end: () => resolve(Buffer.concat(parts).toString('utf8')),
      error: fail,
    }).then((b) => (body = b), reject);
  });
}

/** The segment URIs of a playlist, absolute on the engine's own address. */
export function segmentUris(playlist: string, playlistUrl: string, baseUrl: string): string[] {
  if (!playlist.startsWith('#EXTM3U'))
    throw new AcefleetError('bad_media', 'the engine answered no HLS playlist');
  return playlist
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => rewriteToBase(new URL(line, playlistUrl).toString(), baseUrl));
}

/**
 * An engine's HLS session read as one MPEG-TS body (HLS_FROM_ENGINE, for engines that only serve HLS): its
 * live playlist is read again and again, and each new segment's bytes go to `handlers` in order, as a media
 * body's would. The loop is this body's: `destroy` stops it.
 */
class EngineHlsBody implements PlaybackBody {
  private stopped = false;
  private segment: PlaybackBody | undefined;
  /** Ends the segment read under way (a destroyed body calls no handler any more). */
  private finishSegment: (() => void) | undefined;
  private readonly read: string[] = [];

  constructor(
    private readonly playlistUrl: string,
    private readonly baseUrl: string,
    private readonly timeoutMs: number,
    private readonly handlers: PlaybackHandlers,
  ) {}

  destroy(): void {
    this.stopped = true;
    this.segment?.destroy();
    this.finishSegment?.();
  }

  /** The first playlist: the session exists. Resolves with the segments to read first. */
  async first(): Promise<string[]> {
    return segmentUris(await readText(this.playlistUrl, this.timeoutMs), this.playlistUrl, this.baseUrl);
  }

  /** Read segments and playlists until destroyed, or until the engine fails (told to the handlers). */
  async run(uris: string[]): Promise<void> {
    try {
      for (let next = uris; !this.stopped;) {
        for (const uri of next) if (!this.stopped && !this.read.includes(uri)) await this.relay(uri);
        if (this.stopped) return;
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        if (this.stopped) return;
        next = segmentUris(await readText(this.playlistUrl, this.timeoutMs), this.playlistUrl, this.baseUrl);
      }
    } catch (err) {
      if (this.stopped) return;
      this.stopped = true;
      this.handlers.error(
        err instanceof AcefleetError
          ? err
          : new AcefleetError('engine_error', 'engine HLS failed', { cause: err }),
      );
    }
  }

  private relay(uri: string): Promise<void> {
    this.read.push(uri);
    if (this.read.length > REMEMBERED) this.read.shift();
    return new Promise((resolve, reject) => {
      this.finishSegment = resolve;
      openPlaybackBody(uri, this.timeoutMs, {
        data: (bytes) => {
          if (!this.stopped) this.handlers.data(bytes);
        },
        end: () => resolve(),
        error: reject,
      }).then((body) => (this.segment = body), reject);
    });
  }
}

/**
 * Open an engine's HLS session (`playlistUrl`) as a media body; resolves once its first playlist was read.
 * The loop that reads the segments runs until the body is destroyed or the engine fails.
 */
export async function openEngineHls(
  playlistUrl: string,
  baseUrl: string,
  timeoutMs: number,
  handlers: PlaybackHandlers,
): Promise<PlaybackBody> {
  const body = new EngineHlsBody(playlistUrl, baseUrl, timeoutMs, handlers);
  const uris = await body.first();
  // The loop reports its own failure to the handlers; this catch only keeps a bug from going unhandled.
  body
    .run(uris)
    .catch((err: unknown) =>
      handlers.error(new AcefleetError('internal', 'engine HLS loop', { cause: err })),
    );
  return body;
}
