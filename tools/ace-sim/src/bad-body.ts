// Playback bodies that are not MPEG-TS, as engines send them: an error page with status 200, noise, or a
// file in another container (a VOD torrent of an MKV or MP4), or an HLS playlist where MPEG-TS was asked.
import { randomBytes } from 'node:crypto';

export const badBodies = ['html', 'json-error', 'random', 'mkv', 'mp4', 'hls-playlist'] as const;
export type BadBody = (typeof badBodies)[number];

export interface BadDocument {
  contentType: string;
  body: Buffer;
}

const documents: Partial<Record<BadBody, BadDocument>> = {
  html: {
    contentType: 'text/html; charset=utf-8',
    body: Buffer.from(
      '<!DOCTYPE html><html><head><title>Error</title></head>' +
        '<body><h1>Internal error</h1><p>failed to load content</p></body></html>\n',
    ),
  },
  'json-error': {
    contentType: 'application/json',
    body: Buffer.from('{"response":null,"error":"failed to load content"}\n'),
  },
  'hls-playlist': {
    contentType: 'application/vnd.apple.mpegurl',
    body: Buffer.from(
      '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:2.0,\n/ace/c/0/0.ts\n',
    ),
  },
};

/** The error page a document kind sends whole before the body ends; undefined for streamed kinds. */
export function badDocument(kind: BadBody): BadDocument | undefined {
  return documents[kind];
}

// EBML header of a Matroska file (doctype "matroska"), then the start of its Segment (unknown size).
const MKV_HEADER = Buffer.from(
  '1a45dfa3a34286810142f7810142f2810442f381084282886d6174726f736b614287810442858102' +
    '1853806701ffffffffffffff',
  'hex',
);

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
// An ISO BMFF `ftyp` box (isom), then the header of a 1 GiB `mdat` box.
const MP4_HEADER = Buffer.concat([
  u32(32),
  Buffer.from('ftypisom'),
  u32(0x200),
  Buffer.from('isomiso2avc1mp41'),
  u32(2 ** 30),
  Buffer.from('mdat'),
]);

/** `length` bytes of a streamed bad body from `offset`: the container header first, then compressed-like noise. */
export function badStreamSlice(kind: BadBody, offset: number, length: number): Buffer {
  const noise = randomBytes(length);
  const header = kind === 'mkv' ? MKV_HEADER : kind === 'mp4' ? MP4_HEADER : undefined;
  if (header && offset < header.length)
    header.copy(noise, 0, offset, Math.min(header.length, offset + length));
  return noise;
}
