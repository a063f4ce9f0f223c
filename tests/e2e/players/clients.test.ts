/**
 * Each client of docs/players.md, by the requests it makes, against a real stack: nats-server, engine-manager
 * with simulated engines in Docker (or processes), the edge proxy; channels imported with `acefleet channels
 * import`, guides from a web server the playlist names.
 */
import test from 'ava';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  acefleet,
  channelId,
  operatorDir,
  scrapedPlaylist,
  startStack,
  startWebServer,
  waitFor,
  xmltvGuide,
  type Stack,
  type WebServer,
} from '@acefleet/testkit';
import { clientRequest, isTs, JELLYFIN_ACCEPT, readM3u, UserAgents } from './client-requests.ts';

let stack: Stack;
let web: WebServer;
let cli: { dir: string; remove(): Promise<void> };
let proxy: string;
const COUNT = 6;

test.before(async () => {
  web = await startWebServer();
  web.serve('/guide.xml.gz', {
    body: xmltvGuide(Array.from({ length: COUNT }, (_, n) => `6.ch${n}`)),
    gzip: true,
  });
  stack = await startStack({
    services: ['manager', 'proxy'],
    env: { manager: { MIN_REPLICAS: '1', MAX_STREAMS_PER_ENGINE: '20' } },
  });
  proxy = stack.proxyUrl();
  cli = await operatorDir(stack.nats);
  const list = path.join(cli.dir, 'scraped.m3u');
  await writeFile(list, scrapedPlaylist({ tag: '6', count: COUNT, guideUrl: `${web.url}/guide.xml.gz` }));
  const run = await acefleet(['channels', 'import', list], cli.dir);
  if (run.code !== 0) throw new Error(run.stderr);
  await waitFor(
    async () => readM3u((await clientRequest(`${proxy}/playlist.m3u`)).text).entries.length === COUNT,
    20_000,
  );
});
test.after.always(async () => {
  await cli?.remove();
  await stack?.stop();
  await web?.close();
});

/** Who the proxy says is watching now (GET /api/players: loopback reads need no key). */
async function watchers(): Promise<{ player: { userAgent: string }; content: { value: string } }[]> {
  const res = await clientRequest(`${proxy}/api/players`);
  return (
    JSON.parse(res.text) as { players: { player: { userAgent: string }; content: { value: string } }[] }
  ).players;
}

// The sequence Debian's Kodi 20 made in `npm run players:kodi` (its debug log): the playlist, the guide twice, then
// four GETs of the channel within ~120 ms: two by the add-on (it reads the answer's head, then hangs up), then
// the player's open and its file cache's open, which reads on.
test.serial(
  'Kodi IPTV Simple - loads the playlist and its guide (url-tvg), then tunes a channel as Kodi does',
  async (t) => {
    const headers = { 'user-agent': UserAgents.kodi, accept: '*/*' };
    const m3u = await clientRequest(`${proxy}/playlist.m3u`, { headers });
    t.is(m3u.status, 200);
    t.regex(String(m3u.headers['content-type']), /^audio\/x-mpegurl/);
    const { header, entries } = readM3u(m3u.text);
    t.is(header['url-tvg'], `${proxy}/epg.xml`);
    t.deepEqual(
      entries.map((e) => e.attributes['group-title']),
      ['Sports', 'News', 'Movies', 'Sports', 'News', 'Movies'],
    );
    for (let i = 0; i < 2; i++) {
      const guide = await clientRequest(header['url-tvg']!, { headers });
      t.is(guide.status, 200);
      for (const e of entries) t.true(guide.text.includes(`channel="${e.attributes['tvg-id']}"`));
    }
    const url = entries[0]!.url;
    const probes = await Promise.all([1, 2].map(() => clientRequest(url, { headers, mediaBytes: 1 })));
    t.deepEqual(
      probes.map((p) => [p.status, p.headers['content-type']]),
      [
        [200, 'video/mp2t'],
        [200, 'video/mp2t'],
      ],
    );
    const [open, cache] = await Promise.all([
      clientRequest(url, { headers, mediaBytes: 1 }),
      clientRequest(url, { headers, mediaBytes: 1_000_000 }),
    ]);
    t.is(open.status, 200);
    t.true(isTs(cache.mediaBytes));
  },
);

test.serial(
  'TiviMate - fetches the playlist with its User-Agent and plays; the session shows the User-Agent',
  async (t) => {
    const headers = { 'user-agent': UserAgents.tivimate, 'accept-encoding': 'gzip' };
    const { header, entries } = readM3u((await clientRequest(`${proxy}/playlist.m3u`, { headers })).text);
    t.is(header['x-tvg-url'], `${proxy}/epg.xml`, 'TiviMate reads the guide from x-tvg-url');
    t.true(entries.every((e) => e.attributes['tvg-logo']?.startsWith('http://logos.example/')));
    const channel = entries[1]!;
    const playing = clientRequest(channel.url, {
      headers: { 'user-agent': UserAgents.tivimate },
      mediaBytes: 2_000_000,
    });
    const seen = await waitFor(
      async () => (await watchers()).find((w) => w.player.userAgent === UserAgents.tivimate) ?? false,
      20_000,
    );
    t.is(seen.content.value, channelId('6', 1));
    t.true(isTs((await playing).mediaBytes));
  },
);

test.serial(
  'Jellyfin M3U tuner - playlist (Jellyfin-Server), guide, HEAD for the type, then the shared stream',
  async (t) => {
    const headers = { 'user-agent': UserAgents.jellyfin, accept: JELLYFIN_ACCEPT };
    const { entries } = readM3u((await clientRequest(`${proxy}/playlist.m3u`, { headers })).text);
    // Jellyfin's M3uParser: the name after the last comma, the number from tvg-chno, the id from tvg-id.
    t.deepEqual(entries[2]!.title, '6 Channel 2');
    t.regex(entries[2]!.attributes['tvg-chno'] ?? '', /^\d+$/);
    t.is(entries[2]!.attributes['tvg-id'], '6.ch2');
    const guide = await clientRequest(`${proxy}/epg.xml`, { headers });
    t.regex(String(guide.headers['content-type']), /xml/);
    const head = await clientRequest(entries[2]!.url, { method: 'HEAD', headers });
    t.is(
      String(head.headers['content-type']).toLowerCase(),
      'video/mp2t',
      'Jellyfin shares the stream when HEAD says video/MP2T',
    );
    const stream = await clientRequest(entries[2]!.url, { headers });
    t.true(isTs(stream.mediaBytes));
  },
);

test.serial(
  'Jellyfin and Emby HDHomeRun tuners - discover.json, its LineupURL, a lineup URL that plays',
  async (t) => {
    for (const userAgent of [UserAgents.jellyfin, UserAgents.emby]) {
      const headers = { 'user-agent': userAgent, accept: JELLYFIN_ACCEPT };
      const discover = JSON.parse((await clientRequest(`${proxy}/discover.json`, { headers })).text) as {
        LineupURL: string;
        TunerCount: number;
        DeviceID: string;
        ModelNumber: string;
      };
      t.true(discover.TunerCount >= 1);
      t.notRegex(discover.ModelNumber, /hdtc/i);
      const lineup = JSON.parse((await clientRequest(discover.LineupURL, { headers })).text) as {
        GuideNumber: string;
        GuideName: string;
        URL: string;
      }[];
      t.is(lineup.length, COUNT);
      const stream = await clientRequest(lineup[3]!.URL, { headers });
      t.true(isTs(stream.mediaBytes), userAgent);
    }
  },
);

test.serial('Plex HDHomeRun - discover, lineup status, scan, lineup, device.xml, tune', async (t) => {
  const headers = { 'user-agent': UserAgents.plex };
  const discover = JSON.parse((await clientRequest(`${proxy}/discover.json`, { headers })).text) as {
    DeviceID: string;
    BaseURL: string;
  };
  t.is(discover.BaseURL, proxy);
  t.is(JSON.parse((await clientRequest(`${proxy}/lineup_status.json`, { headers })).text).ScanPossible, 1);
  t.is(
    (await clientRequest(`${proxy}/lineup.post?scan=start&source=Cable`, { method: 'POST', headers })).status,
    200,
  );
  const device = await clientRequest(`${proxy}/device.xml`, { headers });
  t.true(device.text.includes(`<UDN>uuid:${discover.DeviceID}</UDN>`));
  const lineup = JSON.parse((await clientRequest(`${proxy}/lineup.json`, { headers })).text) as {
    URL: string;
  }[];
  const stream = await clientRequest(lineup[4]!.URL, { headers });
  t.true(isTs(stream.mediaBytes));
  const again = JSON.parse((await clientRequest(`${proxy}/discover.json`, { headers })).text) as {
    DeviceID: string;
  };
  t.is(again.DeviceID, discover.DeviceID, 'the tuner keeps its DeviceID');
});

test.serial('Channels DVR custom channels - M3U (MPEG-TS), XMLTV guide, stream', async (t) => {
  const headers = { 'user-agent': UserAgents.channels };
  const { entries } = readM3u((await clientRequest(`${proxy}/playlist.m3u`, { headers })).text);
  t.true(
    entries.every((e) => /^\d+$/.test(e.attributes['tvg-chno'] ?? '')),
    'channel numbers from tvg-chno',
  );
  const guide = await clientRequest(`${proxy}/epg.xml`, { headers });
  t.true(guide.text.includes('<channel id="6.ch5">'));
  const stream = await clientRequest(entries[5]!.url, { headers });
  t.true(isTs(stream.mediaBytes));
});
