import test from 'ava';
import type { NatsConnection } from '@nats-io/nats-core';
import { NatsUsers, type ChannelRecord } from '@acefleet/contracts';
import {
  ChannelDirectory,
  importPlaylist,
  openChannelsKv,
  parseM3u,
  readChannels,
  readSources,
  removeChannels,
} from '@acefleet/channels';
import { createLogger } from '@acefleet/platform';
import { startNatsServer, waitFor, type NatsServer } from '@acefleet/testkit';

const log = createLogger('channels-test', 'silent');
let nats: NatsServer;
let proxy: NatsConnection;
let stats: NatsConnection;

test.before(async () => {
  nats = await startNatsServer();
  proxy = await nats.connect(NatsUsers.edgeProxy);
  stats = await nats.connect(NatsUsers.stats);
});
test.after.always(async () => {
  await proxy?.close();
  await stats?.close();
  await nats?.destroy();
});

/** Tests share one bucket: each uses its own tag (a hex digit) in its content ids and channel names. */
const hex = (n: number, tag: string): string => tag + n.toString(16).padStart(39, '0');

function playlist(n: number, tag: string, opts: { from?: number; suffix?: string } = {}): string {
  const lines = ['#EXTM3U url-tvg="http://guide.example/epg.xml"'];
  for (let i = opts.from ?? 0; i < (opts.from ?? 0) + n; i++) {
    lines.push(
      `#EXTINF:-1 tvg-id="ch${i}" tvg-logo="http://logo.example/${i}.png" group-title="G${i % 7}",${tag} Channel ${i}${opts.suffix ?? ''}`,
      `http://127.0.0.1:6878/ace/getstream?id=${hex(i, tag)}&pid=${i}`,
    );
  }
  return lines.join('\n');
}

test('channels - a re-import updates its channels, removes the ones gone, and never duplicates', async (t) => {
  await openChannelsKv(proxy);
  const source = '/lists/re-import.m3u';
  const first = await importPlaylist(proxy, source, parseM3u(playlist(5, 'b')));
  t.like(first, {
    added: 5,
    updated: 0,
    unchanged: 0,
    removed: 0,
    guideUrls: ['http://guide.example/epg.xml'],
  });

  const second = await importPlaylist(proxy, source, parseM3u(playlist(4, 'b', { from: 1 })));
  t.like(second, { added: 0, updated: 0, unchanged: 4, removed: 1 });
  const renamed = await importPlaylist(proxy, source, parseM3u(playlist(4, 'b', { from: 1, suffix: ' HD' })));
  t.like(renamed, { added: 0, updated: 4, unchanged: 0, removed: 0 });

  const mine = [...(await readChannels(proxy)).values()].filter((c) => c.source === source);
  t.is(mine.length, 4);
  t.deepEqual(mine.map((c) => c.name).sort(), [
    'b Channel 1 HD',
    'b Channel 2 HD',
    'b Channel 3 HD',
    'b Channel 4 HD',
  ]);
  t.is(new Set(mine.map((c) => c.number)).size, 4, 'every channel keeps a guide number of its own');
  const sources = [...(await readSources(proxy)).values()].filter((s) => s.source === source);
  t.like(sources[0], { channels: 4, guideUrls: ['http://guide.example/epg.xml'] });
});

test('channels - a playlist with no readable entry changes nothing', async (t) => {
  await openChannelsKv(proxy);
  const source = '/lists/broken.m3u';
  await importPlaylist(proxy, source, parseM3u(playlist(3, 'c')));
  const err = await t.throwsAsync(
    importPlaylist(proxy, source, parseM3u('#EXTM3U\n#EXTINF:-1,x\nacestream://12\n')),
  );
  t.is((err as { code?: string }).code, 'invalid_playlist');
  t.regex(err.message, /line 3/);
  const left = [...(await readChannels(proxy)).values()].filter((c) => c.source === source);
  t.is(left.length, 3);
});

test('channels - removal by name, by id, by source; an unknown one is channel_not_found', async (t) => {
  await openChannelsKv(proxy);
  const source = '/lists/removal.m3u';
  await importPlaylist(proxy, source, parseM3u(playlist(3, 'd')));
  t.deepEqual(
    (await removeChannels(proxy, { channel: 'D CHANNEL 0' })).map((c) => c.name),
    ['d Channel 0'],
  );
  t.is((await removeChannels(proxy, { channel: hex(1, 'd') })).length, 1);
  t.is((await removeChannels(proxy, { source })).length, 1);
  t.false([...(await readSources(proxy)).values()].some((s) => s.source === source));
  const err = await t.throwsAsync(removeChannels(proxy, { channel: 'no such channel' }));
  t.is((err as { code?: string }).code, 'channel_not_found');
});

test('channels - 10 000 channels import in under 10 s, and a directory (stats user) follows them', async (t) => {
  await openChannelsKv(proxy);
  const directory = new ChannelDirectory(stats, log);
  await directory.start();
  t.teardown(() => directory.stop());
  const text = playlist(10_000, 'e');
  const started = performance.now();
  const report = await importPlaylist(proxy, '/lists/big.m3u', parseM3u(text));
  const ms = performance.now() - started;
  t.log(`10 000 channels (${(text.length / 1e6).toFixed(1)} MB) imported in ${Math.round(ms)} ms`);
  t.is(report.added, 10_000);
  t.true(ms < 10_000, `${ms} ms`);
  await waitFor(
    () => directory.channels().filter((c) => c.source === '/lists/big.m3u').length === 10_000,
    30_000,
  );
  t.log(
    `the directory (stats user) had them ${Math.round(performance.now() - started - ms)} ms after the import`,
  );
  const one: ChannelRecord | undefined = directory.channelOf({ kind: 'id', value: hex(42, 'e') });
  t.like(one, { name: 'e Channel 42', tvgId: 'ch42', group: 'G0' });

  const late = new ChannelDirectory(stats, log);
  const loadStarted = performance.now();
  await late.start();
  t.log(
    `a new directory loaded ${late.channels().length} channels in ${Math.round(performance.now() - loadStarted)} ms`,
  );
  t.teardown(() => late.stop());
  t.true(late.channels().length >= 10_000);
});
