import test from 'ava';
import { parseContentLink, parseM3u } from '@acefleet/channels';

const A = 'a'.repeat(40);
const B = '0123456789abcdef0123456789abcdef01234567';
const C = 'C'.repeat(40);

test('m3u - a scraped playlist: acestream links, engine URLs with pid, infohash, bare ids and magnets', (t) => {
  const text = [
    '#EXTM3U url-tvg="http://guide.example/a.xml, http://guide.example/b.xml.gz" x-tvg-url="http://guide.example/c.xml"',
    '#EXTINF:-1 tvg-id="sport1.es" tvg-name="Sport 1" tvg-logo="http://logo.example/1.png" group-title="Sports, Spain",Sport 1 HD, live',
    `acestream://${A}`,
    '#EXTINF:-1 tvg-id="news",News',
    `http://127.0.0.1:6878/ace/getstream?id=${B}&pid=12345&foo=bar`,
    '#EXTINF:-1,By infohash',
    '#EXTGRP:Movies',
    `http://proxy.example:8000/ace/manifest.m3u8?infohash=${C}`,
    `${'d'.repeat(40)}`,
    '#EXTINF:-1,Magnet base32',
    'magnet:?xt=urn:btih:MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U&dn=x',
  ].join('\r\n');
  const parsed = parseM3u(text);
  t.deepEqual(parsed.guideUrls, [
    'http://guide.example/a.xml',
    'http://guide.example/b.xml.gz',
    'http://guide.example/c.xml',
  ]);
  t.deepEqual(parsed.skipped, []);
  t.is(parsed.entries.length, 5);
  t.deepEqual(parsed.entries[0], {
    line: 3,
    content: { kind: 'id', value: A },
    name: 'Sport 1 HD, live',
    tvgId: 'sport1.es',
    tvgName: 'Sport 1',
    logo: 'http://logo.example/1.png',
    group: 'Sports, Spain',
  });
  t.deepEqual(parsed.entries[1]!.content, { kind: 'id', value: B });
  t.like(parsed.entries[2], { content: { kind: 'infohash', value: C.toLowerCase() }, group: 'Movies' });
  t.like(parsed.entries[3], { content: { kind: 'id', value: 'd'.repeat(40) }, name: 'AceStream dddddddd' });
  t.deepEqual(parsed.entries[4]!.content, {
    kind: 'infohash',
    value: '6162636465666768696a6b6c6d6e6f7071727374',
  });
});

test('m3u - bad entries are reported by line and skipped; the rest are read', (t) => {
  const parsed = parseM3u(
    [
      '#EXTM3U',
      '#EXTINF:-1,Too short',
      'acestream://abc',
      '#EXTINF:-1,Not ace',
      'http://example.com/video.mp4',
      '#EXTINF:-1,Good',
      `acestream://${A}`,
      '#EXTINF:-1,Twice',
      `http://h/ace/getstream?content_id=${A}`,
      'rtmp://elsewhere/live',
      'magnet:?dn=nothing',
      `${'x'.repeat(9000)}`,
    ].join('\n'),
  );
  t.deepEqual(
    parsed.entries.map((e) => e.name),
    ['Good'],
  );
  t.deepEqual(
    parsed.skipped.map((s) => s.line),
    [3, 5, 9, 10, 11, 12],
  );
  t.regex(parsed.skipped[0]!.reason, /40 hex characters/);
  t.regex(parsed.skipped[1]!.reason, /no id= or infohash=/);
  t.is(parsed.skipped[2]!.reason, 'the same content as line 7');
  t.regex(parsed.skipped[3]!.reason, /not an AceStream link/);
  t.regex(parsed.skipped[4]!.reason, /btih/);
  t.regex(parsed.skipped[5]!.reason, /longer than/);
});

test('m3u - guide numbers from tvg-chno; quotes and control characters never reach a field', (t) => {
  const parsed = parseM3u(
    `#EXTM3U\n#EXTINF:-1 tvg-chno="7" tvg-name="a\tb",Name\u0007 with "quotes"\n${A}\n#EXTINF:-1 tvg-chno="x",N\n${B}`,
  );
  t.is(parsed.entries[0]!.number, 7);
  t.is(parsed.entries[0]!.name, 'Name with quotes');
  t.is(parsed.entries[0]!.tvgName, 'a b');
  t.is(parsed.entries[1]!.number, undefined);
});

test('m3u - what is no playlist at all is refused with its line', (t) => {
  for (const [text, message] of [
    ['\n\n<!DOCTYPE html><html><body>Cloudflare</body></html>', /line 3: it is an HTML page/],
    ['{"error":"nope"}', /line 1: it is JSON/],
    ['<?xml version="1.0"?><tv></tv>', /line 1: it is XML/],
    ['', /empty/],
    ['#EXTM3U\0\0', /binary/],
  ] as const) {
    const err = t.throws(() => parseM3u(text));
    t.is((err as { code?: string }).code, 'invalid_playlist');
    t.regex(err.message, message);
  }
});

test('m3u - a list of bare links without a header is read too', (t) => {
  const parsed = parseM3u(`acestream://${A}\n${B}\n`);
  t.is(parsed.entries.length, 2);
});

test('content link - HTTPAceProxy paths and player ids', (t) => {
  t.deepEqual(parseContentLink(`http://h:8000/infohash/${B}/stream.mp4`), {
    content: { kind: 'infohash', value: B },
  });
  t.deepEqual(parseContentLink(`http://h:8000/content_id/${B}/stream.mp4`), {
    content: { kind: 'id', value: B },
  });
  t.deepEqual(parseContentLink(`acestream://${C}/`), { content: { kind: 'id', value: C.toLowerCase() } });
  t.true('problem' in parseContentLink('acestream://'));
});
