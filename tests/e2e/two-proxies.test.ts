import test from 'ava';
import { type StreamEnded, type StreamStarted, streamEventsOf } from '@acefleet/contracts';
import {
  listEngines,
  Player,
  startStack,
  storedEvents,
  waitFor,
  type Stack,
  type StackProcess,
} from '@acefleet/testkit';

// Issue 12, item 4: two edge proxies on one fleet. Each proxy has its own instance id, outbox, engine cache
// and instance file (testkit startStack `instances: { proxy: 2 }`).

const CLAIM_TTL_MS = 4000;
const PROXY_LOST_AFTER_MS = 4000;

interface SimSession {
  contentId?: string;
  pid?: string;
  stoppedAt?: string;
}
interface Session {
  streamId: string;
  proxyId: string;
  contentValue: string;
  endedAt: string | null;
  reason: string | null;
  peakClients: number;
}
interface Totals {
  sessionsStarted: number;
  sessionsEnded: number;
  activeStreams: number;
}

let stack: Stack;
test.before(async () => {
  stack = await startStack({
    instances: { proxy: 2 },
    env: {
      // Two ready engines with room for both proxies: only content affinity puts both on one engine.
      manager: {
        MIN_REPLICAS: '2',
        MAX_REPLICAS: '2',
        MAX_STREAMS_PER_ENGINE: '4',
        CLAIM_TTL_MS: String(CLAIM_TTL_MS),
      },
      proxy: { RENEW_INTERVAL_MS: '500' },
      stats: { PROXY_LOST_AFTER_MS: String(PROXY_LOST_AFTER_MS) },
    },
  });
  await waitFor(
    async () => (await listEngines(stack.nats)).filter((e) => e.state === 'ready').length === 2,
    90_000,
  );
});
test.after.always(async () => {
  await stack?.stop();
});

const proxy = (n: number): StackProcess => stack.instances.proxy[n]!;

async function play(n: number, id: string, bytes = 50_000): Promise<Player> {
  const p = await Player.open(`${stack.proxyUrl(n)}/ace/getstream?id=${id}`, 188 * 200);
  await waitFor(() => p.bytes > bytes, 30_000);
  return p;
}

async function api<T>(route: string): Promise<T> {
  const res = await fetch(`${stack.services.stats!.url}${route}`, {
    headers: { authorization: `Bearer ${stack.apiKey}` },
  });
  if (!res.ok) throw new Error(`${route}: ${res.status}`);
  return (await res.json()) as T;
}

const sessionsOf = async (id: string): Promise<Session[]> =>
  (await api<{ sessions: Session[] }>(`/api/sessions?content=${id}`)).sessions;

/** The claims on `id` of every engine that holds any. */
async function claimsOn(id: string): Promise<{ engineId: string; baseUrl: string; proxyIds: string[] }[]> {
  return (await listEngines(stack.nats))
    .map((e) => ({
      engineId: e.id,
      baseUrl: e.baseUrl,
      proxyIds: e.claims.filter((c) => c.contentKey.endsWith(id)).map((c) => c.proxyId),
    }))
    .filter((e) => e.proxyIds.length > 0);
}

/** The longest time any of `players` went without a new byte, sampled every 100 ms until stopped. */
function gapWatch(players: Player[]): { maxGapMs: () => number; stop: () => void } {
  const last = players.map((p) => ({ bytes: p.bytes, at: performance.now() }));
  let max = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    players.forEach((p, i) => {
      // A gap counts up to the sample that sees new bytes: its resolution is the 100 ms period.
      const seen = last[i]!;
      max = Math.max(max, now - seen.at);
      if (p.bytes !== seen.bytes) Object.assign(seen, { bytes: p.bytes, at: now });
    });
  }, 100);
  return { maxGapMs: () => Math.round(max), stop: () => clearInterval(timer) };
}

test.serial('two proxies - one channel plays from one engine, claimed once by each proxy', async (t) => {
  const id = '1'.repeat(40);
  const first = await play(0, id);
  const second = await play(1, id);
  for (const p of [first, second]) {
    t.is(p.headers['content-type'], 'video/mp2t');
    t.true(
      p.head.every((byte, i) => i % 188 !== 0 || byte === 0x47),
      'whole TS packets',
    );
  }
  const claims = await claimsOn(id);
  t.is(claims.length, 1, `one engine holds the channel: ${JSON.stringify(claims)}`);
  t.deepEqual(claims[0]!.proxyIds.sort(), [proxy(0).instanceId, proxy(1).instanceId].sort());
  const sim = (await (await fetch(`${claims[0]!.baseUrl}/__sim/stats`)).json()) as { sessions: SimSession[] };
  const open = sim.sessions.filter((s) => s.contentId === id && s.stoppedAt === undefined);
  t.is(open.length, 2, 'the engine plays one session per proxy');
  t.is(new Set(open.map((s) => s.pid)).size, 2, 'each with its own player id');
  first.close();
  second.close();
  await waitFor(async () => (await claimsOn(id)).length === 0, 20_000);
});

test.serial('two proxies - a start and end from each proxy are counted once each in stats', async (t) => {
  const id = '2'.repeat(40);
  const before = await api<Totals>('/api/totals');
  const onFirst = [await play(0, id), await play(0, id)];
  const onSecond = await play(1, id);
  await waitFor(async () => (await sessionsOf(id)).length === 2, 20_000);
  [...onFirst, onSecond].forEach((p) => p.close());
  const sessions = await waitFor(async () => {
    const all = await sessionsOf(id);
    return all.every((s) => s.endedAt !== null) ? all : false;
  }, 20_000);
  t.deepEqual(sessions.map((s) => s.proxyId).sort(), [proxy(0).instanceId, proxy(1).instanceId].sort());
  const peakOf = (n: number): number | undefined =>
    sessions.find((s) => s.proxyId === proxy(n).instanceId)?.peakClients;
  t.is(peakOf(0), 2, "the first proxy's session peaked at its two players");
  t.is(peakOf(1), 1);
  t.true(sessions.every((s) => s.reason === 'client_disconnected'));

  const totals = await api<Totals>('/api/totals');
  t.is(totals.sessionsStarted - before.sessionsStarted, 2);
  t.is(totals.sessionsEnded - before.sessionsEnded, 2);
  t.is(totals.activeStreams, 0);

  const ids = new Set(sessions.map((s) => s.streamId));
  const starts = (await storedEvents<StreamStarted>(stack.nats, streamEventsOf('started'))).filter((e) =>
    ids.has(e.data.streamId),
  );
  const ends = (await storedEvents<StreamEnded>(stack.nats, streamEventsOf('ended'))).filter((e) =>
    ids.has(e.data.streamId),
  );
  t.is(starts.length, 2, 'one stored start per proxy stream');
  t.is(ends.length, 2, 'one stored end per proxy stream');
});

test.serial(
  'two proxies - a proxy killed with -9 loses only its own players; its claims expire and stats ends its sessions as proxy_lost',
  async (t) => {
    t.timeout(120_000);
    const id = '3'.repeat(40);
    const doomed = [await play(0, id), await play(0, id)];
    const survivors = [await play(1, id), await play(1, id)];
    await waitFor(async () => (await sessionsOf(id)).length === 2, 20_000);
    const gaps = gapWatch(survivors);
    const killedAt = Date.now();
    await proxy(0).kill();
    doomed.forEach((p) => p.close());
    const lost = await waitFor(async () => {
      const s = (await sessionsOf(id)).find((x) => x.proxyId === proxy(0).instanceId);
      return s?.reason === 'proxy_lost' ? Date.now() - killedAt : false;
    }, PROXY_LOST_AFTER_MS + 30_000);
    const expired = await waitFor(async () => {
      const [held] = await claimsOn(id);
      return held?.proxyIds.length === 1 ? Date.now() - killedAt : false;
    }, CLAIM_TTL_MS + 30_000);
    // The survivors are followed a little longer than the slower of the two clean-ups.
    const bytes = survivors.map((p) => p.bytes);
    await waitFor(() => survivors.every((p, i) => p.bytes > bytes[i]! + 200_000), 20_000);
    gaps.stop();
    t.log(
      `${stack.runtime} runtime: proxy_lost after ${lost} ms, claim expired after ${expired} ms, survivors' longest gap ${gaps.maxGapMs()} ms`,
    );

    t.true(gaps.maxGapMs() < 2000, `survivors' longest gap ${gaps.maxGapMs()} ms`);
    t.true(survivors.every((p) => !p.ended));
    const [held] = await claimsOn(id);
    t.deepEqual(held?.proxyIds, [proxy(1).instanceId], "only the survivor's claim is left");
    const sessions = await sessionsOf(id);
    const survivor = sessions.find((s) => s.proxyId === proxy(1).instanceId);
    t.is(survivor?.endedAt, null, "the surviving proxy's session is still active");
    survivors.forEach((p) => p.close());
  },
);
