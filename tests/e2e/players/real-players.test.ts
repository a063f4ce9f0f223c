/**
 * VLC and mpv themselves (Debian's vlc-bin and mpv), pointed at /playlist.m3u as a user would: each loads the
 * playlist and plays its first entry through a real stack. Skipped where the player is not installed.
 */
import test from 'ava';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { importPlaylist, openChannelsKv, parseM3u } from '@acefleet/channels';
import { channelId, scrapedPlaylist, startStack, waitFor, type Stack } from '@acefleet/testkit';
import { clientRequest, readM3u } from './client-requests.ts';

const has = (command: string): boolean => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
/** VLC refuses to run as root: as root it runs as `nobody`. */
const asUser = process.getuid?.() === 0 ? ['runuser', '-u', 'nobody', '--'] : [];

let stack: Stack;
let proxy: string;

test.before(async () => {
  stack = await startStack({
    services: ['manager', 'proxy'],
    env: { manager: { MIN_REPLICAS: '1', MAX_STREAMS_PER_ENGINE: '20' } },
  });
  proxy = stack.proxyUrl();
  const nc = await stack.nats.connect();
  await openChannelsKv(nc);
  await importPlaylist(nc, '/lists/players.m3u', parseM3u(scrapedPlaylist({ tag: '8', count: 3 })));
  await nc.close();
  await waitFor(
    async () => readM3u((await clientRequest(`${proxy}/playlist.m3u`)).text).entries.length === 3,
    20_000,
  );
});
test.after.always(async () => {
  await stack?.stop();
});

interface Watcher {
  userAgent: string;
  content: { value: string };
  bytesOut: number;
}

/** The proxy's player sessions now (GET /api/players). */
async function watchers(): Promise<Watcher[]> {
  const res = await clientRequest(`${proxy}/api/players`);
  return (
    JSON.parse(res.text) as { players: (Omit<Watcher, 'userAgent'> & { player: { userAgent: string } })[] }
  ).players.map((p) => ({ userAgent: p.player.userAgent, content: p.content, bytesOut: p.bytesOut }));
}

/** Run a player until `done` holds (then stop it), keeping what it printed; `played`: whether `done` held. */
async function runPlayer(
  argv: string[],
  env: Record<string, string>,
  done: () => Promise<boolean>,
): Promise<{ output: string; played: boolean }> {
  let output = '';
  const child: ChildProcess = spawn(argv[0]!, argv.slice(1), {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let played = false;
  try {
    await waitFor(async () => (played = await done()) || child.exitCode !== null, 45_000, 250);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
  return { output, played };
}

const first = channelId('8', 0);

// Skipped at module load where the player is not installed (never passed without it).
(has('mpv') ? test.serial : test.skip)('mpv - opens /playlist.m3u and plays its first channel', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'acefleet-mpv-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const log = path.join(dir, 'mpv.log');
  const { played } = await runPlayer(
    [
      'mpv',
      '--no-config',
      '--vo=null',
      '--ao=null',
      '--no-terminal',
      `--log-file=${log}`,
      `${proxy}/playlist.m3u`,
    ],
    {},
    async () =>
      (await watchers()).some(
        (w) => w.content.value === first && w.userAgent === 'libmpv' && w.bytesOut > 500_000,
      ),
  );
  t.true(played, 'the proxy served mpv 500 kB of the first channel');
  const output = await readFile(log, 'utf8');
  t.true(output.includes(`Playing: ${proxy}/ace/getstream?id=${first}`), 'mpv played the first entry');
  t.regex(output, /\(\+\) Video --vid=1 /);
});

(has('cvlc') ? test.serial : test.skip)(
  'VLC - opens /playlist.m3u and plays its first channel',
  async (t) => {
    const home = await mkdtemp(path.join(tmpdir(), 'acefleet-vlc-'));
    t.teardown(() => rm(home, { recursive: true, force: true }));
    spawnSync('chmod', ['777', home]);
    const vlcrc = path.join(home, 'vlcrc');
    await writeFile(vlcrc, '');
    const { output, played } = await runPlayer(
      [
        ...asUser,
        'cvlc',
        '--intf',
        'dummy',
        '--vout',
        'dummy',
        '--aout',
        'dummy',
        '--no-loop',
        '-vv',
        `${proxy}/playlist.m3u`,
      ],
      { HOME: home, XDG_CONFIG_HOME: home, XDG_CACHE_HOME: home, XDG_DATA_HOME: home },
      async () =>
        (await watchers()).some(
          (w) => w.content.value === first && /^VLC\//.test(w.userAgent) && w.bytesOut > 500_000,
        ),
    );
    t.true(played, 'the proxy served VLC 500 kB of the first channel');
    t.regex(output, /using demux module "ts"/);
  },
);
