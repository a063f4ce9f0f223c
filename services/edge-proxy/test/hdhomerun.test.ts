import test from 'ava';
import { buildSimulator, type Simulator } from '@acefleet/ace-sim';
import { importPlaylist, openChannelsKv, parseM3u } from '@acefleet/channels';
import { addToken, openTokensKv } from '@acefleet/player-tokens';
import { NatsUsers } from '@acefleet/contracts';
import { ffprobe, putEngineRecord, readyEngine, scrapedPlaylist, waitFor } from '@acefleet/testkit';
import { isValidDeviceId } from '../src/catalog/hdhomerun-device.ts';
import { startProxy, type ProxyUnderTest } from './helpers.ts';

let sim: Simulator;
let proxy: ProxyUnderTest;
let token: string;
const JELLYFIN = {
  'user-agent': 'Jellyfin-Server/10.10.7',
  accept: 'application/json, application/xml, */*',
};
const PLEX = { 'user-agent': 'PlexMediaServer/1.41.0.8994-f2c27da23' };

test.before(async () => {
  sim = buildSimulator({ burstSeconds: 1 });
  const { url } = await sim.listen();
  proxy = await startProxy({ STATIC_ENGINES: url, HDHR_FRIENDLY_NAME: 'acefleet test' });
  const nc = await proxy.nats.connect(NatsUsers.operator);
  await openChannelsKv(nc);
  await importPlaylist(nc, '/lists/tuner.m3u', parseM3u(scrapedPlaylist({ tag: 'e', count: 4 })));
  // Two ready engines with room 2 and 1: the tuner count the proxy offers.
  await putEngineRecord(nc, { ...readyEngine('tuner-e1', url), capacity: 2 });
  await putEngineRecord(nc, {
    ...readyEngine('tuner-e2', url),
    capacity: 2,
    claims: [{ claimId: 'c', contentKey: 'id:x', proxyId: 'p', claimedAt: new Date().toISOString() }],
  });
  ({ token } = await addToken(await openTokensKv(nc), { name: 'household' }));
  await nc.close();
  await waitFor(async () => (await get('/lineup.json', JELLYFIN)).body.length === 4, 10_000);
  await waitFor(
    async () => (await get(`/hdhr/${token}/lineup_status.json`, JELLYFIN)).status === 200,
    10_000,
  );
});
test.after.always(async () => {
  await proxy?.close();
  await sim?.close();
});

interface LineupEntry {
  GuideNumber: string;
  GuideName: string;
  URL: string;
  HD: number;
}

interface Answer {
  status: number;
  type: string;
  /** Parsed JSON (discover.json's object, or lineup.json's array). */
  body: Record<string, string | number> & LineupEntry[];
  text: string;
}

async function get(path: string, headers: Record<string, string>, method = 'GET'): Promise<Answer> {
  const res = await fetch(path.startsWith('http') ? path : `${proxy.url}${path}`, {
    method,
    headers,
    signal: AbortSignal.timeout(20_000),
  });
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  return { status: res.status, type, text, body: type.includes('json') ? JSON.parse(text) : undefined };
}

// Jellyfin's HdHomerunHost: GET <tuner url>/discover.json, then its LineupURL, then each channel's URL.
test('hdhomerun - Jellyfin adds the tuner: discover.json, its LineupURL, and a lineup URL that plays', async (t) => {
  const discover = await get('/discover.json', JELLYFIN);
  t.is(discover.status, 200);
  t.like(discover.body, {
    FriendlyName: 'acefleet test',
    Manufacturer: 'Silicondust',
    BaseURL: proxy.url,
    LineupURL: `${proxy.url}/lineup.json`,
    TunerCount: 3,
  });
  t.false(
    /hdtc/i.test(String(discover.body.ModelNumber)),
    'Jellyfin would append ?transcode= to lineup URLs',
  );
  t.true(isValidDeviceId(String(discover.body.DeviceID)), String(discover.body.DeviceID));

  const lineup = await get(String(discover.body.LineupURL), JELLYFIN);
  t.is(lineup.status, 200);
  t.deepEqual(Object.keys(lineup.body[0]!).sort(), ['GuideName', 'GuideNumber', 'HD', 'URL']);
  t.deepEqual(
    lineup.body.map((c) => c.GuideName),
    ['e Channel 0', 'e Channel 1', 'e Channel 2', 'e Channel 3'],
  );
  t.true(lineup.body.every((c) => typeof c.GuideNumber === 'string'));
  const probe = await ffprobe(lineup.body[1]!.URL);
  t.is(probe.formatName, 'mpegts');
});

// Plex's manual set-up: discover.json, lineup_status.json, POST lineup.post?scan=start, lineup.json, device.xml.
test('hdhomerun - Plex discovers, scans and tunes', async (t) => {
  const discover = await get('/discover.json', PLEX);
  const again = await get('/discover.json', PLEX);
  t.is(again.body.DeviceID, discover.body.DeviceID, 'the DeviceID is stable');
  t.deepEqual((await get('/lineup_status.json', PLEX)).body, {
    ScanInProgress: 0,
    ScanPossible: 1,
    Source: 'Cable',
    SourceList: ['Cable'],
  });
  const scan = await get('/lineup.post?scan=start&source=Cable', PLEX, 'POST');
  t.is(scan.status, 200);
  const device = await get('/device.xml', PLEX);
  t.is(device.status, 200);
  t.regex(device.type, /xml/);
  t.true(device.text.includes(`<UDN>uuid:${String(discover.body.DeviceID)}</UDN>`));
  t.true(device.text.includes(`<URLBase>${proxy.url}</URLBase>`));
  const lineup = await get('/lineup.json?show=found', PLEX);
  const tuned = await fetch(lineup.body[0]!.URL, { headers: { ...PLEX, range: 'bytes=0-' } });
  t.is(tuned.status, 200);
  t.is(tuned.headers.get('content-type'), 'video/mp2t');
  await tuned.body?.cancel();
});

// Media servers take a device address and append /discover.json: a token rides in the path.
test('hdhomerun - under /hdhr/<token> every URL carries the token, and the other methods answer 405', async (t) => {
  const discover = await get(`/hdhr/${token}/discover.json`, JELLYFIN);
  t.is(discover.status, 200);
  t.is(discover.body.BaseURL, `${proxy.url}/hdhr/${token}`);
  t.is(discover.body.LineupURL, `${proxy.url}/hdhr/${token}/lineup.json`);
  const lineup = await get(String(discover.body.LineupURL), JELLYFIN);
  t.true(lineup.body.every((c) => c.URL.endsWith(`&token=${token}`)));
  const wrong = await get('/discover.json', JELLYFIN, 'DELETE');
  t.is(wrong.status, 405);
});
