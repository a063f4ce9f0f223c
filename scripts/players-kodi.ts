/**
 * `npm run players:kodi`: one real media centre, end to end. Debian's Kodi with its IPTV Simple client, under Xvfb,
 * is configured by file with a real stack's /playlist.m3u and /epg.xml, and this checks over Kodi's JSON-RPC
 * that the channels load with their names and groups, that the guide shows their programmes, and that a
 * channel plays (the proxy serves Kodi, Kodi's log opens the stream). It prints the HTTP requests Kodi made
 * and saves a screenshot of Kodi's channel guide (docs/players-kodi-guide.png with
 * ACEFLEET_UPDATE_SCREENSHOTS=1, else .run/players-kodi-guide.png). Exit 0 when every check passes.
 * Needs the Debian packages kodi, kodi-pvr-iptvsimple (and its inputstream add-ons), xvfb and ffmpeg.
 */
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { importPlaylist, openChannelsKv, parseM3u } from '@acefleet/channels';
import {
  repoRoot,
  scrapedPlaylist,
  startStack,
  startWebServer,
  waitFor,
  xmltvGuide,
} from '@acefleet/testkit';
import { startKodi, type Kodi } from './lib/kodi.ts';

const COUNT = 6;
/** Kodi's window ids: the yes/no dialog, and the TV guide. */
const DIALOG_YES_NO = 10100;
const TV_GUIDE = 10702;
const TAG = 'b';
const checks: { what: string; ok: boolean; detail: string }[] = [];

function check(what: string, ok: boolean, detail = ''): void {
  checks.push({ what, ok, detail });
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${detail ? `: ${detail}` : ''}`);
}

const missing = ['kodi', 'Xvfb', 'ffmpeg'].filter(
  (c) => spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0,
);
if (missing.length > 0) {
  console.error(
    `players: missing ${missing.join(', ')} (apt-get install kodi kodi-pvr-iptvsimple xvfb ffmpeg)`,
  );
  process.exit(2);
}

interface Channel {
  channelid: number;
  label: string;
}

const dir = await mkdtemp(path.join(tmpdir(), 'acefleet-kodi-'));
const web = await startWebServer();
web.serve('/guide.xml', { body: xmltvGuide(Array.from({ length: COUNT }, (_, n) => `${TAG}.ch${n}`)) });
const stack = await startStack({
  services: ['manager', 'proxy'],
  env: { manager: { MIN_REPLICAS: '1', MAX_STREAMS_PER_ENGINE: '20' } },
});
let kodi: Kodi | undefined;
try {
  const proxy = stack.proxyUrl();
  const nc = await stack.nats.connect();
  await openChannelsKv(nc);
  const playlist = scrapedPlaylist({ tag: TAG, count: COUNT, guideUrl: `${web.url}/guide.xml` });
  await importPlaylist(nc, '/lists/kodi.m3u', parseM3u(playlist));
  await nc.close();
  await waitFor(
    async () => (await (await fetch(`${proxy}/playlist.m3u`)).text()).includes(`${TAG} Channel ${COUNT - 1}`),
    20_000,
  );

  kodi = await startKodi({ dir, playlistUrl: `${proxy}/playlist.m3u`, guideUrl: `${proxy}/epg.xml` });
  console.log(`Kodi runs on ${kodi.display}; enabling IPTV Simple Client`);
  for (const addon of ['inputstream.ffmpegdirect', 'inputstream.adaptive', 'pvr.iptvsimple']) {
    await kodi.rpc('Addons.SetAddonEnabled', { addonid: addon, enabled: true });
  }

  const k = kodi;
  const channels = await waitFor(
    async () => {
      const r = await k.rpc<{ channels?: Channel[] }>('PVR.GetChannels', { channelgroupid: 'alltv' });
      return (r.channels?.length ?? 0) >= COUNT && r.channels!;
    },
    90_000,
    1000,
  ).catch(() => [] as Channel[]);
  const names = channels.map((c) => c.label);
  check(
    'the channels load with their names',
    names.length === COUNT && names.every((n) => n.startsWith(`${TAG} Channel`)),
    names.join(', '),
  );

  const groups = await k.rpc<{ channelgroups: { label: string }[] }>('PVR.GetChannelGroups', {
    channeltype: 'tv',
  });
  const labels = groups.channelgroups.map((g) => g.label);
  check(
    'the groups load',
    ['Sports', 'News', 'Movies'].every((g) => labels.includes(g)),
    labels.join(', '),
  );

  const first = channels[0];
  const guide = first
    ? await waitFor(
        async () => {
          const r = await k.rpc<{ broadcasts?: { title: string }[] }>('PVR.GetBroadcasts', {
            channelid: first.channelid,
            properties: ['title', 'starttime', 'endtime'],
          });
          return (r.broadcasts?.length ?? 0) > 0 && r.broadcasts!;
        },
        60_000,
        1000,
      ).catch(() => [])
    : [];
  check(
    'the guide shows the programme',
    guide.some((b) => b.title === `${TAG}.ch0 live`),
    guide.map((b) => b.title).join(', '),
  );

  // At its first start Kodi asks, one dialog at a time, whether to enable the system add-ons it found
  // disabled (the inputstreams); they are enabled over JSON-RPC above, so each question is closed.
  await waitFor(
    async () => {
      const { currentwindow } = await k.rpc<{ currentwindow: { id: number; label: string } }>(
        'GUI.GetProperties',
        {
          properties: ['currentwindow'],
        },
      );
      if (currentwindow.id !== DIALOG_YES_NO) return true;
      await k.rpc('Input.ExecuteAction', { action: 'close' });
      return false;
    },
    30_000,
    500,
  );
  await k.rpc('GUI.ActivateWindow', { window: 'tvguide' });
  await waitFor(
    async () => {
      const { currentwindow } = await k.rpc<{ currentwindow: { id: number } }>('GUI.GetProperties', {
        properties: ['currentwindow'],
      });
      return currentwindow.id === TV_GUIDE;
    },
    30_000,
    500,
  );
  // The guide grid fills in after the window opens: give it a moment before the picture.
  await new Promise((resolve) => setTimeout(resolve, 4000));
  const shot =
    process.env.ACEFLEET_UPDATE_SCREENSHOTS === '1'
      ? path.join(repoRoot, 'docs', 'players-kodi-guide.png')
      : path.join(repoRoot, '.run', 'players-kodi-guide.png');
  await mkdir(path.dirname(shot), { recursive: true });
  await k.screenshot(shot);
  console.log(`screenshot of the channel guide: ${path.relative(repoRoot, shot)}`);

  if (first) await k.rpc('Player.Open', { item: { channelid: first.channelid } });
  let seen: { player: { userAgent: string }; bytesOut: number }[] = [];
  const played = await waitFor(
    async () => {
      const res = await fetch(`${proxy}/api/players`);
      seen = ((await res.json()) as { players: typeof seen }).players;
      return seen.find((p) => /Kodi/.test(p.player.userAgent) && p.bytesOut > 500_000) ?? false;
    },
    60_000,
    500,
  ).catch(() => {
    console.log(`the proxy's players: ${JSON.stringify(seen)}`);
    return undefined;
  });
  check(
    'a channel plays: the proxy serves Kodi',
    played !== undefined,
    played ? `${played.bytesOut} bytes to ${played.player.userAgent}` : '',
  );
  const active = await k.rpc<{ playerid: number; type: string }[]>('Player.GetActivePlayers');
  check(
    'Kodi has an active video player',
    active.some((p) => p.type === 'video'),
    JSON.stringify(active),
  );

  const log = await readFile(kodi.logFile, 'utf8');
  await copyFile(kodi.logFile, path.join(repoRoot, '.run', 'players-kodi.log'));
  // Every HTTP request Kodi made to the proxy, in order (its curl layer logs each open at debug level).
  const opens = log
    .split('\n')
    .filter((l) => l.includes('CurlFile::Open - <http://127.0.0.1'))
    .map((l) => `${l.slice(11, 23)} GET ${/<(http[^>]*)>/.exec(l)?.[1] ?? ''}`);
  check(
    'the stream is opened from the playlist URL',
    opens.some((o) => o.includes('/ace/getstream?')),
    '',
  );
  console.log("\nKodi's requests to the proxy (from its debug log):");
  for (const line of opens.slice(0, 40)) console.log(`  ${line}`);
} finally {
  await kodi?.stop();
  await stack.stop();
  await web.close();
  await rm(dir, { recursive: true, force: true });
}
const failed = checks.filter((c) => !c.ok);
console.log(`\n${checks.length - failed.length} passed, ${failed.length} failed`);
process.exit(failed.length === 0 ? 0 : 1);
