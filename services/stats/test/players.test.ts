import test from 'ava';
import { jetstream } from '@nats-io/jetstream';
import { chromium } from 'playwright-core';
import { importPlaylist, openChannelsKv, parseM3u } from '@acefleet/channels';
import { playerEventSubject, type PlayerSessionEnded, type PlayerSessionStarted } from '@acefleet/contracts';
import {
  channelId,
  publishStreamEvent,
  scrapedPlaylist,
  streamEnded,
  streamStarted,
  waitFor,
} from '@acefleet/testkit';
import { startStatsWorld, type StatsWorld } from './helpers.ts';

let world: StatsWorld;

test.before(async () => {
  world = await startStatsWorld();
  await openChannelsKv(world.nc);
  await importPlaylist(world.nc, '/lists/stats.m3u', parseM3u(scrapedPlaylist({ tag: '5', count: 2 })));
});
test.after.always(async () => {
  await world?.close();
});

function player(playerId: string, streamId: string, content: string, token?: string): PlayerSessionStarted {
  return {
    playerId,
    streamId,
    proxyId: 'proxy-a',
    kind: 'ts',
    content: { kind: 'id', value: content },
    player: { ...(token ? { token } : {}), address: '10.0.0.7', userAgent: 'TiviMate/5.1.6 (Android 11)' },
    startedAt: new Date().toISOString(),
  };
}

async function publish(e: PlayerSessionStarted | PlayerSessionEnded): Promise<void> {
  const ended = 'endedAt' in e;
  await jetstream(world.nc).publish(
    playerEventSubject(ended ? 'ended' : 'started', e.proxyId),
    JSON.stringify(e),
    { msgID: `${e.playerId}:${ended ? 'ended' : 'started'}` },
  );
}

interface PlayerRow {
  playerId: string;
  token: string | null;
  address: string;
  userAgent: string;
  channel: string | null;
  endedAt: string | null;
  bytesOut: number;
}

async function players(query = ''): Promise<PlayerRow[]> {
  const res = await fetch(`${world.stats.url}/api/players${query}`);
  return ((await res.json()) as { players: PlayerRow[] }).players;
}

test.serial(
  'stats - player sessions show who watches which channel (by name), since when, how many bytes',
  async (t) => {
    const stream = streamStarted('stats-players-1', { content: { kind: 'id', value: channelId('5', 1) } });
    await publishStreamEvent(world.nc, stream);
    const a = player('p-a', stream.streamId, channelId('5', 1), 'living-room');
    const b = player('p-b', stream.streamId, channelId('5', 1));
    await publish(a);
    await publish(b);
    await publish({ ...a, endedAt: new Date().toISOString(), bytesOut: 123_456 });
    await publish(a); // redelivered: changes nothing

    const rows = await waitFor(async () => {
      const all = await players();
      return all.length === 2 && all.some((p) => p.endedAt) && all.every((p) => p.channel) && all;
    }, 10_000);
    const ended = rows.find((p) => p.playerId === 'p-a')!;
    t.like(ended, { token: 'living-room', channel: '5 Channel 1', bytesOut: 123_456 });
    t.truthy(ended.endedAt);
    const watching = await players('?state=active');
    t.deepEqual(
      watching.map((p) => [p.playerId, p.token, p.address, p.channel]),
      [['p-b', null, '10.0.0.7', '5 Channel 1']],
    );

    const sessions = (await fetch(`${world.stats.url}/api/sessions?state=active`).then((r) => r.json())) as {
      sessions: { streamId: string; channel: string | null }[];
    };
    t.is(sessions.sessions.find((s) => s.streamId === stream.streamId)?.channel, '5 Channel 1');

    await publishStreamEvent(world.nc, streamEnded(stream, 'proxy_lost', 1000));
    await waitFor(async () => (await players('?state=active')).length === 0, 10_000);
    t.pass('a stream that ends ends its players, even those whose proxy never said so');
  },
);

test.serial(
  'stats - the dashboard Sessions view lists who watches, by token name and channel name',
  async (t) => {
    const stream = streamStarted('stats-players-2', { content: { kind: 'id', value: channelId('5', 0) } });
    await publishStreamEvent(world.nc, stream);
    await publish(player('p-c', stream.streamId, channelId('5', 0), 'bedroom'));
    await waitFor(async () => (await players('?state=active'))[0]?.channel === '5 Channel 0', 10_000);
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
    });
    t.teardown(() => browser.close());
    const page = await browser.newPage();
    await page.goto(`${world.stats.url}/#sessions`);
    const row = await page.waitForSelector('#players [data-player-id="p-c"]', { timeout: 10_000 });
    const text = (await row.textContent()) ?? '';
    t.true(text.includes('bedroom'), text);
    t.true(text.includes('5 Channel 0'), text);
    t.true(text.includes('TiviMate'), text);
    await page.waitForSelector(`[data-session-id="${stream.streamId}"]`);
    t.true(
      ((await page.textContent(`[data-session-id="${stream.streamId}"]`)) ?? '').includes('5 Channel 0'),
    );
  },
);
