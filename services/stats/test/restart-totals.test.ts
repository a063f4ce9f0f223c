import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureEventsStream, requestJson } from '@acefleet/platform';
import { StatsSummaryReply, Subjects, type EndReason, type StreamStarted } from '@acefleet/contracts';
import { startNatsServer, waitFor, streamEnded, publishStreamEvent, streamStarted } from '@acefleet/testkit';
import { startStats } from './helpers.ts';

// "Stopped for a minute", scaled down to keep the suite fast: the consumer does not care how long.
const DOWNTIME_MS = 8_000;
const REASONS: EndReason[] = ['client_disconnected', 'engine_eof', 'linger_expired', 'engine_timeout'];

type Totals = StatsSummaryReply;

/** What the proxy recorded: totals computed from every event it published. */
class Ledger {
  private readonly open = new Map<string, StreamStarted>();
  readonly totals: Totals = {
    sessionsStarted: 0,
    sessionsEnded: 0,
    activeStreams: 0,
    bytesIn: 0,
    bytesOut: 0,
    endedByReason: {},
  };
  private n = 0;

  constructor(private readonly nc: Parameters<typeof publishStreamEvent>[0]) {}

  /** One step of traffic: start a stream, and end the oldest open one every other step. */
  async step(): Promise<void> {
    const s = streamStarted(`s-${++this.n}`, { engineId: `engine-${this.n % 3}` });
    await publishStreamEvent(this.nc, s);
    this.open.set(s.streamId, s);
    this.totals.sessionsStarted++;
    if (this.n % 2 === 0) {
      const [first] = this.open.values();
      const reason = REASONS[this.n % REASONS.length]!;
      const e = streamEnded(first!, reason, 1000 * this.n, 1 + (this.n % 4));
      await publishStreamEvent(this.nc, e);
      // A proxy's outbox may retry a publish: JetStream's duplicate window drops the copy.
      if (this.n % 5 === 0) await publishStreamEvent(this.nc, e);
      this.open.delete(first!.streamId);
      this.totals.sessionsEnded++;
      this.totals.bytesIn += e.bytesIn;
      this.totals.bytesOut += e.bytesOut;
      this.totals.endedByReason[reason] = (this.totals.endedByReason[reason] ?? 0) + 1;
    }
    this.totals.activeStreams = this.open.size;
  }

  async run(ms: number, everyMs = 20): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      await this.step();
      // Pacing, not waiting: traffic spread over the run, as a proxy's streams come and go.
      await sleep(everyMs);
    }
  }
}

test('stats - restarted mid-run and stopped for a while, reports exactly the totals the proxy recorded', async (t) => {
  const nats = await startNatsServer();
  const dir = await mkdtemp(path.join(tmpdir(), 'acefleet-stats-'));
  const nc = await nats.connect();
  try {
    await ensureEventsStream(nc);
    const ledger = new Ledger(nc);
    const db = path.join(dir, 'stats.db');
    let stats = await startStats(nats, db);
    const totals = async (): Promise<Totals> =>
      (await (await fetch(`${stats.url}/api/totals`)).json()) as Totals;

    await ledger.run(1500);
    // A crash in the middle of a burst, once stats is consuming it: events stored but not yet acknowledged
    // come again.
    const beforeBurst = ledger.totals.sessionsStarted;
    const traffic = ledger.run(1500, 5);
    await waitFor(async () => (await totals()).sessionsStarted > beforeBurst, 10_000);
    await stats.kill();
    await traffic;
    stats = await startStats(nats, db);
    await ledger.run(1000);

    // A clean stop, then downtime while streams keep starting and ending.
    await stats.stop();
    await ledger.run(DOWNTIME_MS);
    stats = await startStats(nats, db);
    await ledger.run(1000);

    const caughtUp = await waitFor(async () => {
      const now = await totals();
      return now.sessionsStarted === ledger.totals.sessionsStarted &&
        now.sessionsEnded === ledger.totals.sessionsEnded
        ? now
        : false;
    }, 20_000);
    t.log(
      `${ledger.totals.sessionsStarted} sessions started, ${ledger.totals.sessionsEnded} ended across a crash and ${DOWNTIME_MS} ms of downtime`,
    );
    t.deepEqual(caughtUp, ledger.totals);

    // And once more after a plain restart: nothing counted twice. One new event, counted, shows the restarted
    // consumer got past everything stored before it.
    await stats.stop();
    stats = await startStats(nats, db);
    await ledger.step();
    const afterRestart = await waitFor(async () => {
      const now = await totals();
      return now.sessionsStarted >= ledger.totals.sessionsStarted ? now : false;
    }, 20_000);
    t.deepEqual(afterRestart, ledger.totals);
    // The same totals over NATS, checked against the reply's schema in contracts.
    const summary = await requestJson(nc, Subjects.statsSummary, {}, StatsSummaryReply, 5000);
    t.deepEqual(summary, ledger.totals);
    const metrics = await (await fetch(`${stats.url}/metrics`)).text();
    t.true(
      metrics.includes(
        `acefleet_fleet_sessions{state="ended",service="acefleet-stats"} ${ledger.totals.sessionsEnded}`,
      ),
      metrics
        .split('\n')
        .filter((l) => l.startsWith('acefleet_fleet_sessions'))
        .join('\n'),
    );
    await stats.stop();
  } finally {
    await nc.close();
    await nats.destroy();
    await rm(dir, { recursive: true, force: true });
  }
});
