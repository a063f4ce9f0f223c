import test from 'ava';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect } from '@nats-io/transport-node';
import {
  NatsUsers,
  ServiceNames,
  Subjects,
  type ProxyLost,
  type StreamEnded,
  streamEventSubject,
  streamEventsOf,
} from '@acefleet/contracts';
import {
  entries,
  freePort,
  listEngines,
  Player,
  repoRoot,
  startService,
  startStack,
  storedEvents,
  waitFor,
  type NatsServer,
  type Stack,
} from '@acefleet/testkit';

const readyEngine = (stack: Stack): Promise<boolean> =>
  waitFor(async () => (await listEngines(stack.nats)).some((e) => e.state === 'ready'), 60_000);

async function statsJson<T>(statsUrl: string, route: string): Promise<T> {
  return (await (await fetch(`${statsUrl}${route}`)).json()) as T;
}

const activeStreams = (statsUrl: string): Promise<number> =>
  statsJson<{ activeStreams: number }>(statsUrl, '/api/totals').then((t) => t.activeStreams);

/**
 * Resolves once a presence round of stats that began from now on is over: stats pings again only when its
 * last round has ended, so the second ping seen proves the first one's answers were taken in.
 */
async function presenceRoundDone(nats: Pick<NatsServer, 'connect'>): Promise<void> {
  const nc = await nats.connect();
  try {
    let pings = 0;
    nc.subscribe(`$SRV.PING.${ServiceNames.edgeProxy}`, {
      callback: () => {
        pings++;
      },
    });
    await nc.flush();
    await waitFor(() => pings >= 2, 30_000);
  } finally {
    await nc.close();
  }
}

/** What stats found and stored (never a stream event in the proxy's name): the proxies it took for lost. */
const lostOf = async (nats: Pick<NatsServer, 'connect'>): Promise<ProxyLost[]> =>
  (await storedEvents<ProxyLost>(nats, Subjects.proxyLost)).map((e) => e.data);

/** How stats' sessions of `proxyId` ended (their reasons). */
const reasonsOf = async (statsUrl: string, proxyId: string): Promise<(string | null)[]> =>
  (
    await statsJson<{ sessions: { reason: string | null }[] }>(
      statsUrl,
      `/api/sessions?proxy=${encodeURIComponent(proxyId)}`,
    )
  ).sessions.map((s) => s.reason);

const endedOf = async (nats: Pick<NatsServer, 'connect'>, streamId?: string): Promise<StreamEnded[]> =>
  (await storedEvents<StreamEnded>(nats, streamEventsOf('ended')))
    .map((e) => e.data)
    .filter((e) => !streamId || e.streamId === streamId);

test.serial(
  'outbox - stream.ended written during a NATS outage survives a proxy kill and is stored exactly once, also when replayed twice',
  async (t) => {
    t.timeout(180_000);
    const outbox = await mkdtemp(path.join(tmpdir(), 'acefleet-outbox-'));
    const stack = await startStack({
      services: ['manager', 'proxy'],
      env: { manager: { MIN_REPLICAS: '1' }, proxy: { OUTBOX_DIR: outbox } },
    });
    try {
      await readyEngine(stack);
      const p = await Player.playing(`${stack.proxyUrl()}/ace/getstream?id=${'c'.repeat(40)}`);
      await stack.nats.stop();
      p.close();
      const line = await waitFor(async () => {
        for (const f of await readdir(outbox)) {
          const text = await readFile(path.join(outbox, f), 'utf8');
          const ended = text.split('\n').find((l) => l.includes(`"${streamEventSubject('ended', '')}`));
          if (ended) return { file: f, ended: JSON.parse(ended) as { msgId: string; payload: StreamEnded } };
        }
        return false;
      }, 30_000);
      const saved = path.join(outbox, `${line.file}.saved`);
      await copyFile(path.join(outbox, line.file), saved);
      await stack.services.proxy!.kill();

      await stack.nats.start();
      await stack.start('proxy');
      const streamId = line.ended.payload.streamId;
      await waitFor(async () => (await endedOf(stack.nats, streamId)).length > 0, 30_000);
      t.is(line.ended.msgId, `${streamId}:ended`);

      // A crash after the store but before the file was emptied: the same file is replayed by a new instance.
      await stack.services.proxy!.kill();
      await copyFile(saved, path.join(outbox, line.file));
      await rm(saved);
      const third = await stack.start('proxy');
      await waitFor(async () => {
        const health = (await (await fetch(`${third.url}/health`)).json()) as { pendingEvents: number };
        return health.pendingEvents === 0 && (await readdir(outbox)).every((f) => f !== line.file);
      }, 30_000);
      const ended = await endedOf(stack.nats, streamId);
      t.is(ended.length, 1, 'stored exactly once');
      t.like(ended[0], { reason: 'client_disconnected' });
    } finally {
      await stack.stop();
      await rm(outbox, { recursive: true, force: true });
    }
  },
);

test.serial(
  'late grant - an acquire answered after the proxy gave up leaves no claim at the manager',
  async (t) => {
    t.timeout(180_000);
    const stack = await startStack({
      services: ['manager', 'proxy'],
      env: { manager: { MIN_REPLICAS: '1' }, proxy: { ACQUIRE_TIMEOUT_MS: '1500' } },
    });
    const manager = stack.services.manager!.child;
    try {
      await readyEngine(stack);
      manager.kill('SIGSTOP');
      // The proxy gives up on the paused manager and plays from its engine cache (a local claim).
      const p = await Player.playing(`${stack.proxyUrl()}/ace/getstream?id=${'d'.repeat(40)}`);
      manager.kill('SIGCONT');
      await waitFor(
        () => stack.services.manager!.output().includes('stopped waiting for this acquire'),
        30_000,
      );
      const claims = (await listEngines(stack.nats)).flatMap((e) => e.claims);
      t.deepEqual(claims, [], 'the manager granted nothing after the deadline');
      p.close();
    } finally {
      manager.kill('SIGCONT');
      await stack.stop();
    }
  },
);

test.serial(
  'proxy_lost - a proxy killed during play has its sessions ended by stats within PROXY_LOST_AFTER_MS',
  async (t) => {
    t.timeout(180_000);
    const stack = await startStack({
      services: ['manager', 'stats', 'proxy'],
      env: { manager: { MIN_REPLICAS: '1' }, stats: { PROXY_LOST_AFTER_MS: '3000' } },
    });
    try {
      await readyEngine(stack);
      const stats = stack.services.stats!.url;
      const p = await Player.playing(`${stack.proxyUrl()}/ace/getstream?id=${'e'.repeat(40)}`);
      await waitFor(async () => (await activeStreams(stats)) === 1, 30_000);
      const proxyId = stack.services.proxy!.instanceId;
      await stack.services.proxy!.kill();
      const killedAt = Date.now();
      await waitFor(async () => (await activeStreams(stats)) === 0, 20_000);
      t.log(`sessions ended ${Date.now() - killedAt} ms after the kill (PROXY_LOST_AFTER_MS 3000)`);
      t.deepEqual(await reasonsOf(stats, proxyId), ['proxy_lost']);
      t.deepEqual(
        (await lostOf(stack.nats)).map((l) => l.proxyId),
        [proxyId],
        "stats' own finding, stored once",
      );
      t.deepEqual(await endedOf(stack.nats), [], 'no stream event in the proxy’s name');
      p.close();
    } finally {
      await stack.stop();
    }
  },
);

test.serial(
  'proxy_lost - a proxy restarted with a new instance id ends its predecessor sessions at once',
  async (t) => {
    t.timeout(180_000);
    const stack = await startStack({
      services: ['manager', 'stats', 'proxy'],
      env: { manager: { MIN_REPLICAS: '1' }, stats: { PROXY_LOST_AFTER_MS: '60000' } },
    });
    try {
      await readyEngine(stack);
      const stats = stack.services.stats!.url;
      const old = stack.services.proxy!;
      const p = await Player.playing(`${old.url}/ace/getstream?id=${'f'.repeat(40)}`);
      await waitFor(async () => (await activeStreams(stats)) === 1, 30_000);
      // Stats learns a proxy's address from its periodic ping (every 5 s at this PROXY_LOST_AFTER_MS).
      await presenceRoundDone(stack.nats);
      await old.kill();
      p.close();
      const port = Number(new URL(old.url).port);
      const successor = await startService('proxy', {
        entry: entries.proxy,
        port,
        env: {
          NATS_URL: stack.nats.url,
          ...stack.nats.env(NatsUsers.edgeProxy),
          HTTP_HOST: '127.0.0.1',
          HTTP_PORT: String(port),
          OUTBOX_DIR: '',
        },
      });
      try {
        const restartedAt = Date.now();
        await waitFor(async () => (await activeStreams(stats)) === 0, 30_000);
        const tookMs = Date.now() - restartedAt;
        t.log(`predecessor's session ended ${tookMs} ms after the restart`);
        t.true(tookMs < 30_000, 'well before PROXY_LOST_AFTER_MS');
        t.deepEqual(await reasonsOf(stats, old.instanceId), ['proxy_lost']);
        t.like((await lostOf(stack.nats))[0], { proxyId: old.instanceId });
      } finally {
        await successor.stop();
      }
    } finally {
      await stack.stop();
    }
  },
);

test.serial(
  'npm start - Ctrl-C to the whole process group during play: the proxy ends its streams (shutdown), stats sees none active',
  async (t) => {
    t.timeout(180_000);
    const ports = {
      PROXY_PORT: await freePort(),
      STATS_PORT: await freePort(),
      MONITOR_PORT: await freePort(),
      MANAGER_PORT: await freePort(),
      NATS_PORT: await freePort(),
    };
    // A state directory of its own: npm-start.test.ts runs another `npm start` (and reads .run) meanwhile.
    const runDir = await mkdtemp(path.join(tmpdir(), 'acefleet-start-'));
    t.teardown(() => rm(runDir, { recursive: true, force: true }));
    const env: Record<string, string> = {
      ...process.env,
      HOST_ID: `start-${randomBytes(3).toString('hex')}`,
      ACEFLEET_STATE_DIR: runDir,
    };
    for (const [k, v] of Object.entries(ports)) env[k] = String(v);
    delete env.NATS_URL;
    const natsStore = path.join(runDir, `nats-${ports.NATS_PORT}`);
    const dbPath = path.join(runDir, `stats-${ports.STATS_PORT}.db`);
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
      cwd: repoRoot,
      env,
      detached: true,
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const stats = `http://127.0.0.1:${ports.STATS_PORT}`;
    let nats: ReturnType<typeof spawn> | undefined;
    try {
      const playUrl = await waitFor(() => /play:\s+(\S+)/.exec(out)?.[1] ?? false, 90_000);
      const p = await Player.open(playUrl, 0);
      await waitFor(() => p.bytes > 50_000, 30_000);
      await waitFor(async () => (await activeStreams(stats)) === 1, 30_000);

      process.kill(-child.pid!, 'SIGINT');
      t.is(await exited, 0, out);
      p.close();

      // A new stats view over the same NATS store and database catches up with what was left to read.
      nats = spawn(
        'nats-server',
        ['-js', '-a', '127.0.0.1', '-p', String(ports.NATS_PORT), '-sd', natsStore],
        {
          stdio: 'ignore',
        },
      );
      const natsUrl = `nats://127.0.0.1:${ports.NATS_PORT}`;
      const port = await freePort();
      const view = await startService('stats', {
        entry: entries.stats,
        port,
        env: { NATS_URL: natsUrl, HTTP_PORT: String(port), DB_PATH: dbPath },
      });
      try {
        await waitFor(async () => (await activeStreams(view.url)) === 0, 30_000);
        // This nats-server runs without the start script's users: an anonymous reader is enough here.
        const ended = await endedOf({ connect: () => connect({ servers: natsUrl }) });
        t.is(ended.length, 1);
        t.like(ended[0], { reason: 'shutdown' });
      } finally {
        await view.stop();
      }
    } finally {
      if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
      nats?.kill('SIGKILL');
      await rm(natsStore, { recursive: true, force: true });
      await rm(dbPath, { force: true });
      await rm(path.join(runDir, `outbox-${ports.PROXY_PORT}`), { recursive: true, force: true });
    }
  },
);
