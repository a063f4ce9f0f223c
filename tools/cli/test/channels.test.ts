import test from 'ava';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ChannelRecord, ImportReport } from '@acefleet/contracts';
import {
  channelId,
  scrapedPlaylist,
  startNatsServer,
  startWebServer,
  type NatsServer,
  type WebServer,
} from '@acefleet/testkit';
import { acefleet, json, operatorDir, wideLines } from './helpers.ts';

let nats: NatsServer;
let web: WebServer;
let dir: { dir: string; remove(): Promise<void> };

test.before(async () => {
  nats = await startNatsServer();
  web = await startWebServer();
  dir = await operatorDir(nats);
});
test.after.always(async () => {
  await dir?.remove();
  await web?.close();
  await nats?.destroy();
});

const cli = (...args: string[]) => acefleet(args, dir.dir);

test.serial(
  'cli - channels import reads a file, reports bad lines by number, and a re-import adds nothing',
  async (t) => {
    const file = path.join(dir.dir, 'scraped.m3u');
    const text = scrapedPlaylist({ tag: '3', count: 4, guideUrl: 'http://guide.example/epg.xml' });
    await writeFile(file, `${text}#EXTINF:-1,Broken\nacestream://not-an-id\n`);
    const run = await cli('channels', 'import', file);
    t.is(run.code, 0, run.stderr);
    t.regex(
      run.stdout,
      new RegExp(`^imported 4 channels from ${file}: 4 added, 0 updated, 0 unchanged, 0 removed, 1 skipped`),
    );
    t.regex(run.stdout, /^ {2}line 11: acestream:\/\/ id must be 40 hex characters/m);
    t.regex(run.stdout, /^ {2}guide: http:\/\/guide\.example\/epg\.xml$/m);

    const again = json<ImportReport>(await cli('channels', 'import', file, '--json'));
    t.like(again, { source: file, added: 0, unchanged: 4 });
    t.deepEqual(again.skipped, [
      { line: 11, reason: 'acestream:// id must be 40 hex characters, not 9 characters' },
    ]);
  },
);

test.serial(
  'cli - channels import from a URL, ls shows names and groups within 80 columns, rm by name and by source',
  async (t) => {
    web.serve('/list.m3u', { body: scrapedPlaylist({ tag: '4', count: 3 }) });
    const source = `${web.url}/list.m3u`;
    t.is((await cli('channels', 'import', source)).code, 0);
    t.is(web.requests('/list.m3u').userAgent, 'acefleet-cli');

    const table = await cli('channels', 'ls', '--group', 'news');
    t.is(table.code, 0);
    t.regex(table.stdout, /^ *NO {2}NAME/);
    t.regex(table.stdout, /4 Channel 1 +News/);
    t.notRegex(table.stdout, /4 Channel 0/);
    t.deepEqual(wideLines(table.stdout), []);

    const listed = json<{ channels: ChannelRecord[] }>(await cli('channels', 'ls', '--json'));
    const ours = listed.channels.filter((c) => c.source === source);
    t.is(ours.length, 3);
    t.like(
      ours.find((c) => c.name === '4 Channel 2'),
      {
        content: { kind: 'id', value: channelId('4', 2) },
        tvgId: '4.ch2',
        group: 'Movies',
      },
    );

    const removed = await cli('channels', 'rm', '4 channel 2');
    t.is(removed.stdout, 'removed 1 channels: 4 Channel 2\n');
    const bySource = json<{ removed: ChannelRecord[] }>(
      await cli('channels', 'rm', '--source', source, '--json'),
    );
    t.is(bySource.removed.length, 2);
    const gone = await cli('channels', 'rm', '4 Channel 0');
    t.is(gone.code, 1);
    t.is(gone.stderr, 'acefleet: no channel matches 4 Channel 0 (channel_not_found)\n');
  },
);

test.serial(
  'cli - a source that is not a playlist fails with exit 1 naming why, and changes nothing',
  async (t) => {
    web.serve('/blocked.m3u', { body: '<!DOCTYPE html><html></html>', type: 'text/html' });
    const html = await cli('channels', 'import', `${web.url}/blocked.m3u`);
    t.is(html.code, 1);
    t.is(html.stderr, 'acefleet: line 1: it is an HTML page (invalid_playlist)\n');
    const missing = await cli('channels', 'import', '/no/such/list.m3u');
    t.is(missing.code, 1);
    t.regex(missing.stderr, /cannot read \/no\/such\/list\.m3u: ENOENT \(source_unavailable\)/);
    t.is((await cli('channels', 'rm')).code, 2, 'rm wants a channel or --source');
    t.is((await cli('channels', 'import')).code, 2);
    t.is((await cli('channels', 'play', 'x')).code, 2);
  },
);

test('cli - tokens add prints the token once; ls never shows it; revoke; duplicates and odd names fail', async (t) => {
  const made = json<{ name: string; token: string; maxStreams: number }>(
    await cli('tokens', 'add', 'plex-server', '--max-streams', '20', '--json'),
  );
  t.like(made, { name: 'plex-server', maxStreams: 20 });
  t.regex(made.token, /^aft_/);
  const text = await cli('tokens', 'add', 'phone');
  t.regex(
    text.stdout,
    /^token phone \(at most 8 streams at once\); it is not shown again:\naft_[A-Za-z0-9_-]{43}\n$/,
  );

  const listed = await cli('tokens', 'ls');
  t.regex(listed.stdout, /plex-server +20/);
  t.false(listed.stdout.includes(made.token));
  t.false((await cli('tokens', 'ls', '--json')).stdout.includes(made.token));

  const twice = await cli('tokens', 'add', 'plex-server');
  t.is(twice.code, 1);
  t.regex(twice.stderr, /a token named plex-server exists.*\(token_exists\)/);
  const odd = await cli('tokens', 'add', 'my token!');
  t.is(odd.code, 1);
  t.regex(odd.stderr, /token name "my token!" is not allowed/);
  t.is((await cli('tokens', 'add', 'x', '--max-streams', '0')).code, 2);

  t.is((await cli('tokens', 'revoke', 'plex-server')).stdout, 'token plex-server revoked\n');
  const again = await cli('tokens', 'revoke', 'plex-server');
  t.is(again.code, 1);
  t.is(again.stderr, 'acefleet: no token named plex-server (token_not_found)\n');
});
