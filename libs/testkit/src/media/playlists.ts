import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';

/** A content id for channel `n` of a test (its `tag`, one hex digit, keeps tests that share a bucket apart). */
export function channelId(tag: string, n: number): string {
  return `${tag}${n.toString(16).padStart(39, '0')}`;
}

export interface ScrapedPlaylistOptions {
  /** One hex digit that every content id of this playlist starts with. */
  tag: string;
  count: number;
  /** The header's url-tvg. */
  guideUrl?: string;
  /** Groups cycled through (default: Sports, News, Movies). */
  groups?: string[];
  from?: number;
}

/**
 * A playlist as scrapers write it: entries cycle through `acestream://` links, Acexy/engine URLs with `pid`
 * and other parameters, bare ids, and infohash URLs; each with tvg-id, tvg-name, tvg-logo and group-title.
 * Channel n is named `<tag> Channel <n>`, with tvg-id `<tag>.ch<n>`.
 */
export function scrapedPlaylist(opts: ScrapedPlaylistOptions): string {
  const groups = opts.groups ?? ['Sports', 'News', 'Movies'];
  const lines = [opts.guideUrl ? `#EXTM3U url-tvg="${opts.guideUrl}"` : '#EXTM3U'];
  const from = opts.from ?? 0;
  for (let n = from; n < from + opts.count; n++) {
    const id = channelId(opts.tag, n);
    const links = [
      `acestream://${id}`,
      `http://127.0.0.1:6878/ace/getstream?id=${id}&pid=${1000 + n}&network-caching=1000`,
      id,
      `http://127.0.0.1:6878/ace/getstream?infohash=${id}&pid=${n}`,
    ];
    lines.push(
      `#EXTINF:-1 tvg-id="${opts.tag}.ch${n}" tvg-name="${opts.tag} Channel ${n}" tvg-logo="http://logos.example/${n}.png" group-title="${groups[n % groups.length]!}",${opts.tag} Channel ${n}`,
      links[n % links.length]!,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** An XMLTV guide for `channelIds`, one programme each from an hour ago to an hour from now, titled `<id> live`. */
export function xmltvGuide(channelIds: readonly string[]): string {
  const stamp = (ms: number): string =>
    `${new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14)} +0000`;
  const now = Date.now();
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<tv generator-info-name="test">'];
  for (const id of channelIds) lines.push(`<channel id="${id}"><display-name>${id}</display-name></channel>`);
  for (const id of channelIds) {
    lines.push(
      `<programme start="${stamp(now - 3_600_000)}" stop="${stamp(now + 3_600_000)}" channel="${id}"><title>${id} live</title></programme>`,
    );
  }
  lines.push('</tv>', '');
  return lines.join('\n');
}

/** What the test web server answers on a path: a body (gzipped on request), or a misbehaviour. */
export type WebAnswer =
  { body: string; type?: string; gzip?: boolean; status?: number } | { hang: true } | { endless: true };

export interface WebServer {
  url: string;
  /** Set (or change) what a path answers. */
  serve(path: string, answer: WebAnswer): void;
  /** How many requests each path got, and the User-Agent of the last. */
  requests(path: string): { count: number; userAgent?: string };
  close(): Promise<void>;
}

/**
 * A loopback web server standing in for a scraper or a guide site: playlists and guides, pages that hang,
 * bodies that never end, HTML where a playlist was expected.
 */
export async function startWebServer(): Promise<WebServer> {
  const answers = new Map<string, WebAnswer>();
  const seen = new Map<string, { count: number; userAgent?: string }>();
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    seen.set(path, { count: (seen.get(path)?.count ?? 0) + 1, userAgent: req.headers['user-agent'] });
    const answer = answers.get(path);
    if (!answer) {
      res.writeHead(404).end('not found');
      return;
    }
    if ('hang' in answer) return;
    if ('endless' in answer) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(64 * 1024, '#');
      const pump = (): void => {
        while (res.write(chunk));
        res.once('drain', pump);
      };
      pump();
      return;
    }
    const body = answer.gzip ? gzipSync(answer.body) : Buffer.from(answer.body);
    res.writeHead(answer.status ?? 200, { 'content-type': answer.type ?? 'text/plain' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    serve: (path, answer) => void answers.set(path, answer),
    requests: (path) => seen.get(path) ?? { count: 0 },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
