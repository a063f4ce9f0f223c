import test from 'ava';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { NatsUsers, ServiceNames, streamEventSubject } from '@acefleet/contracts';
import { Player, repoRoot, startStack, waitFor, type Stack } from '@acefleet/testkit';
import { acefleet, json, operatorDir, wideLines, type CliRun } from './helpers.ts';

const CONTENT = 'd1b2c3d4e5f60718293a4b5c6d7e8f9012345678';

interface Named {
  name: string;
}

let stack: Stack;
let op: Awaited<ReturnType<typeof operatorDir>>;
/** The CLI as an operator runs it in the repo: credentials found in .run/operator.nats-url. */
const cli = (...args: string[]): Promise<CliRun> => acefleet(args, op.dir);
const engineIds = async (): Promise<string[]> =>
  json<{ engines: { id: string }[] }>(await cli('engines', '--json')).engines.map((e) => e.id);

test.before(async () => {
  stack = await startStack();
  op = await operatorDir(stack.nats);
});
test.after.always(async () => {
  await op?.remove();
  await stack?.stop();
});

test.serial('status - the manager of the stack answers and all four services are present', async (t) => {
  const run = await cli('status', '--json', '--wait-ms', '2000');
  t.is(run.code, 0, run.stderr);
  const status = json<{
    manager: { hostId: string };
    missing: string[];
    services: { name: string }[];
  }>(run);
  t.is(status.manager.hostId, stack.hostId);
  t.deepEqual(status.missing, []);
  t.deepEqual([...new Set(status.services.map((s) => s.name))].sort(), Object.values(ServiceNames).sort());
  const text = await cli('status', '--wait-ms', '2000');
  t.is(text.code, 0, text.stderr);
  t.regex(text.stdout, new RegExp(`^host +${stack.hostId}$`, 'm'));
  t.deepEqual(wideLines(text.stdout), []);
});

test.serial(
  'provision starts ready engines that engines then lists, in a table within 80 columns',
  async (t) => {
    const run = await cli('provision', '2', '--json');
    t.is(run.code, 0, run.stderr);
    const provisioned = json<{ engines: { id: string; state: string }[] }>(run).engines;
    t.is(provisioned.length, 2);
    t.true(provisioned.every((e) => e.state === 'ready'));
    const listed = await engineIds();
    for (const e of provisioned) t.true(listed.includes(e.id));
    const table = await cli('engines');
    t.is(table.code, 0, table.stderr);
    t.regex(table.stdout, /^ENGINE +STATE +CLAIMS +STANDBY +AGE/);
    for (const e of provisioned) t.regex(table.stdout, new RegExp(`^${e.id} +ready `, 'm'));
    t.deepEqual(wideLines(table.stdout), []);
  },
);

test.serial('streams shows a playing stream and stop <prefix> ends it for its player', async (t) => {
  const player = await Player.open(`${stack.proxyUrl()}/ace/getstream?id=${CONTENT}`);
  t.teardown(() => player.close());
  await waitFor(() => player.bytes > 0, 20_000);
  const run = await cli('streams', '--json');
  t.is(run.code, 0, run.stderr);
  const [stream, ...others] = json<{ streams: { streamId: string; proxyId: string; clients: number }[] }>(
    run,
  ).streams;
  t.is(others.length, 0);
  t.is(stream!.clients, 1);
  const table = await cli('streams');
  t.regex(table.stdout, /^STREAM +KIND +CHANNEL +STATE +CLIENTS/);
  t.deepEqual(wideLines(table.stdout), []);

  const stopped = await cli('stop', stream!.streamId.slice(0, 8), '--json');
  t.is(stopped.code, 0, stopped.stderr);
  t.like(json<object>(stopped), { streamId: stream!.streamId, reason: 'stopped', proxyId: stream!.proxyId });
  await player.closed;
  t.deepEqual(json<{ streams: unknown[] }>(await cli('streams', '--json')).streams, []);

  const again = await cli('stop', stream!.streamId);
  t.is(again.code, 1);
  t.regex(again.stderr, /^acefleet: no stream \S+ on 1 proxies\n$/);
});

test.serial('events prints the last events as JSON lines, the stop among them', async (t) => {
  const run = await cli('events', '--json', '-n', '200');
  t.is(run.code, 0, run.stderr);
  const events = run.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { seq: number; subject: string; data: { reason?: string } });
  t.true(events.length > 0 && events.length <= 200);
  t.true(
    events.every((e, i) => i === 0 || e.seq > events[i - 1]!.seq),
    'in order',
  );
  t.true(
    events.some((e) => e.subject.startsWith(streamEventSubject('ended', '')) && e.data.reason === 'stopped'),
  );
  const text = await cli('events', '-n', '5');
  t.is(text.code, 0, text.stderr);
  t.is(text.stdout.trim().split('\n').length, 5);
  t.deepEqual(wideLines(text.stdout), []);
});

test.serial('events --follow prints new events as they come and exits 0 on SIGINT', async (t) => {
  const bin = path.join(repoRoot, 'tools/cli/bin/acefleet.js');
  const child = spawn(process.execPath, [bin, 'events', '--follow', '--json', '-n', '1'], { cwd: op.dir });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  t.teardown(() => child.kill('SIGKILL'));
  await waitFor(() => out.includes('\n'), 20_000);
  const player = await Player.open(`${stack.proxyUrl()}/ace/getstream?id=${CONTENT}`);
  t.teardown(() => player.close());
  await waitFor(() => out.includes(`"${streamEventSubject('started', '')}`), 20_000);
  child.kill('SIGINT');
  t.is(await exited, 0);
  player.close();
});

test.serial('drain and remove --force take engines out of the fleet', async (t) => {
  const [first, second] = await engineIds();
  const drained = await cli('drain', first!, '--json');
  t.is(drained.code, 0, drained.stderr);
  t.is(json<{ engine: { state: string } }>(drained).engine.state, 'draining');
  await waitFor(async () => !(await engineIds()).includes(first!), 30_000);

  const removed = await cli('remove', second!, '--force');
  t.is(removed.code, 0, removed.stderr);
  t.is(removed.stdout, `engine ${second} removed\n`);
  await waitFor(async () => !(await engineIds()).includes(second!), 30_000);
});

test.serial('an unknown engine fails with exit 1 and one line naming it', async (t) => {
  for (const command of ['drain', 'remove']) {
    const run = await cli(command, 'no-such-engine');
    t.is(run.code, 1);
    t.is(run.stdout, '');
    t.is(run.stderr, 'acefleet: no engine no-such-engine (not_found)\n');
  }
});

test.serial('credentials come from --creds (a URL line, or NATS_* lines with --nats) as well', async (t) => {
  const { user, password } = stack.nats.credentials(NatsUsers.operator);
  const urlFile = path.join(op.dir, 'url.creds');
  await writeFile(urlFile, `nats://${user}:${password}@127.0.0.1:${stack.nats.port}\n`, { mode: 0o600 });
  const linesFile = path.join(op.dir, 'lines.creds');
  await writeFile(linesFile, `# operator\nNATS_USER=${user}\nNATS_PASSWORD=${password}\n`, { mode: 0o600 });
  for (const args of [
    ['--creds', urlFile],
    ['--creds', linesFile, '--nats', stack.nats.url],
  ]) {
    const run = await acefleet(['engines', '--json', ...args], tmpdir());
    t.is(run.code, 0, run.stderr);
    t.true(Array.isArray(json<{ engines: unknown[] }>(run).engines));
  }
});

test.serial('micro ls, info and stats show the services as the nats CLI would', async (t) => {
  const ls = await cli('micro', 'ls', '--json', '--wait-ms', '2000');
  t.is(ls.code, 0, ls.stderr);
  t.true(Object.values(ServiceNames).every((n) => json<Named[]>(ls).some((s) => s.name === n)));

  const info = json<(Named & { endpoints: Named[] })[]>(await cli('micro', 'info', 'edge-proxy', '--json'));
  t.is(info.length, 1);
  t.is(info[0]!.name, ServiceNames.edgeProxy);
  t.deepEqual(info[0]!.endpoints.map((e) => e.name).sort(), ['players', 'stop', 'streams']);

  const stats = await cli('micro', 'stats', 'engine-manager', '--json');
  const [manager] = json<{ endpoints: (Named & { num_requests: number; num_errors: number })[] }[]>(stats);
  const drains = manager!.endpoints.find((e) => e.name === 'drain')!;
  t.true(drains.num_requests >= 2, 'the drains above were counted');
  t.true(drains.num_errors >= 1, 'the unknown engine was an error');

  const table = await cli('micro', 'stats', '--wait-ms', '2000');
  t.regex(table.stdout, /^SERVICE +ID +ENDPOINT +REQUESTS/);
  t.deepEqual(wideLines(table.stdout), []);
  const nobody = await cli('micro', 'ls', 'nobody-here');
  t.is(nobody.code, 1);
  t.regex(nobody.stderr, /^acefleet: no nobody-here answered within 1000 ms\n$/);
});

test.serial(
  'engines upgrade replaces each engine, one line per engine; an unpinned image fails with exit 1',
  async (t) => {
    const provisioned = await cli('provision', '1', '--json');
    t.is(provisioned.code, 0, provisioned.stderr);
    const before = await engineIds();

    const text = await cli('engines', 'upgrade');
    t.is(text.code, 0, text.stderr);
    const lines = text.stdout.trimEnd().split('\n');
    t.is(lines.length, before.length + 1, text.stdout);
    for (const id of before)
      t.regex(text.stdout, new RegExp(`^${id} → ${stack.hostId}-[0-9a-f]{8}  \\d+s$`, 'm'));
    t.regex(
      lines.at(-1)!,
      new RegExp(`^${before.length} engines replaced.* \\(hosts: ${stack.hostId}\\) in \\d+s`),
    );
    t.deepEqual(wideLines(text.stdout), []);
    const after = await engineIds();
    t.is(after.length, before.length);
    t.false(
      after.some((id) => before.includes(id)),
      'every engine is new',
    );

    const again = await cli('engines', 'upgrade', '--host', stack.hostId, '--json');
    t.is(again.code, 0, again.stderr);
    const reply = json<{ hosts: string[]; replaced: { from: string; to: string; tookMs: number }[] }>(again);
    t.deepEqual(reply.hosts, [stack.hostId]);
    t.deepEqual(reply.replaced.map((r) => r.from).sort(), [...after].sort());

    const unpinned = await cli('engines', 'upgrade', '--image', 'acefleet/ace-sim');
    t.is(unpinned.code, 1);
    t.is(unpinned.stdout, '');
    t.regex(unpinned.stderr, /^acefleet: image "acefleet\/ace-sim" is not pinned: .*\(bad_request\)\n$/);
    t.deepEqual(
      (await engineIds()).sort(),
      reply.replaced.map((r) => r.to).sort(),
      'the refused upgrade touched nothing',
    );
  },
);
