/**
 * The HTTP requests players and media servers make, as docs/players.md describes them: each client's
 * User-Agent and headers, and the order of its requests. The tests play them against a real stack.
 */
import http from 'node:http';

export const UserAgents = {
  vlc: 'VLC/3.0.20 LibVLC/3.0.20',
  mpv: 'libmpv',
  /** As Debian's Kodi 20.1 sent it in `npm run players:kodi` (upstream builds say `Kodi/20.x …`). */
  kodi: 'KodifromDebian/20.1 (X11; Linux x86_64) Kodi_Fork_Kodi from Debian/1.0 Debian GNU/Linux/12 App_Bitness/64 Version/20.1-Debian-package-version:-2:20.1+dfsg-1',
  tivimate: 'TiviMate/5.1.6 (Android 11)',
  jellyfin: 'Jellyfin-Server/10.10.7',
  /** Jellyfin's M3U tuner plays channel URLs with a browser's User-Agent unless the tuner sets one. */
  jellyfinStream:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36',
  plex: 'PlexMediaServer/1.41.0.8994-f2c27da23',
  emby: 'Emby/4.8.10.0',
  channels: 'Channels DVR/2024.07.18',
} as const;

/** Jellyfin's named HTTP client asks for JSON, XML or anything. */
export const JELLYFIN_ACCEPT = 'application/json, application/xml, */*';

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** Bytes of a media body read before the client hung up. */
  mediaBytes: Buffer;
}

/**
 * One request as a client sends it. A media body (video/mp2t) is read until `mediaBytes` arrived, then the
 * client hangs up, as a player that stops does; any other body is read whole.
 */
export function clientRequest(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; mediaBytes?: number } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: opts.method ?? 'GET', headers: opts.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const media = res.headers['content-type'] === 'video/mp2t';
        const done = (): void =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: media ? '' : Buffer.concat(chunks).toString('utf8'),
            mediaBytes: media ? Buffer.concat(chunks) : Buffer.alloc(0),
          });
        res.on('data', (c: Buffer) => {
          chunks.push(c);
          size += c.length;
          if (media && size >= (opts.mediaBytes ?? 200_000)) {
            res.destroy();
            done();
          }
        });
        res.on('end', done);
      },
    );
    req.setTimeout(60_000, () => req.destroy(new Error(`${url}: no answer in 60 s`)));
    req.on('error', reject);
    req.end();
  });
}

export interface M3uEntry {
  attributes: Record<string, string>;
  /** The title after the last comma, as Jellyfin's M3uParser takes it. */
  title: string;
  url: string;
}

/** An extended M3U read as IPTV clients read it: the header's attributes, then #EXTINF + URL pairs. */
export function readM3u(text: string): { header: Record<string, string>; entries: M3uEntry[] } {
  const attrs = (line: string): Record<string, string> =>
    Object.fromEntries(
      [...line.matchAll(/([a-z0-9\-_]+)="([^"]+)"/gi)].map((m) => [m[1]!.toLowerCase(), m[2]!]),
    );
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  if (!lines[0]?.startsWith('#EXTM3U')) throw new Error(`not an M3U: ${text.slice(0, 40)}`);
  const entries: M3uEntry[] = [];
  let extinf: string | undefined;
  for (const line of lines.slice(1)) {
    if (line.startsWith('#EXTINF:')) extinf = line.slice(8);
    else if (extinf && line && !line.startsWith('#')) {
      const parts = extinf.split(',');
      entries.push({ attributes: attrs(extinf), title: parts[parts.length - 1]!.trim(), url: line });
      extinf = undefined;
    }
  }
  return { header: attrs(lines[0]), entries };
}

/** Whether `bytes` are whole MPEG-TS packets from the first byte. */
export function isTs(bytes: Buffer): boolean {
  const whole = bytes.subarray(0, bytes.length - (bytes.length % 188));
  return whole.length >= 188 * 10 && whole.every((b, i) => i % 188 !== 0 || b === 0x47);
}
