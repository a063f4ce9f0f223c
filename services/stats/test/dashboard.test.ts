import test from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import type { NatsConnection } from '@nats-io/nats-core';
import { NatsUsers } from '@acefleet/contracts';
import { buildSimulator, type Simulator } from '@acefleet/ace-sim';
import { startSession } from '@acefleet/engine-client';
import { ensureEventsStream } from '@acefleet/platform';
import {
  putEngineRecord,
  readyEngine,
  repoRoot,
  startNatsServer,
  startAcefleetService,
  type NatsServer,
  type ServiceProcess,
  streamEnded,
  randomContentId,
  publishStreamEvent,
  streamStarted,
  waitFor,
} from '@acefleet/testkit';
import { startStats } from './helpers.ts';

const CHROMIUM = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];
/** Set to refresh the committed screenshot (docs/dashboard.png) from this run. */
const UPDATE_SCREENSHOT = process.env.ACEFLEET_UPDATE_SCREENSHOTS === '1';
/** Samples of the newest stream before the screenshot (STAT_INTERVAL_MS apart): charts with a line to show. */
const CHART_SAMPLES = 10;

let nats: NatsServer;
let nc: NatsConnection;
let dir: string;
let sims: { sim: Simulator; url: string }[] = [];
let stats: ServiceProcess;
let monitor: ServiceProcess;
let browser: Browser;

test.before(async () => {
  nats = await startNatsServer();
  nc = await nats.connect();
  await ensureEventsStream(nc);
  dir = await mkdtemp(path.join(tmpdir(), 'acefleet-dashboard-'));
  sims = await Promise.all(
    [0, 1, 2].map(async () => {
      const sim = buildSimulator({ burstSeconds: 0.2 });
      return { sim, url: (await sim.listen(0, '127.0.0.1')).url };
    }),
  );
  stats = await startStats(nats, path.join(dir, 'stats.db'));
  monitor = await startAcefleetService('monitor', {
    ...nats.env(NatsUsers.healthMonitor),
    HEALTH_INTERVAL_MS: '500',
    PROBE_TIMEOUT_MS: '300',
    STAT_INTERVAL_MS: '500',
    EXPECTED_SERVICES: 'acefleet-health-monitor,acefleet-stats',
    // The simulators are the engines: the monitor probes engines (and reads stat URLs) only there.
    ENGINE_ADDRESSES: sims.map((s) => new URL(s.url).host).join(','),
  });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM });
});

test.after.always(async () => {
  await browser?.close();
  await monitor?.stop();
  await stats?.stop();
  await nc?.close();
  await Promise.all(sims.map((s) => s.sim.close()));
  await nats?.destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A real session on engine `i`, announced as a proxy announces it. */
async function play(i: number, streamId: string): Promise<void> {
  const content = { kind: 'id' as const, value: randomContentId() };
  const session = await startSession(sims[i]!.url, content, { timeoutMs: 5000 });
  await publishStreamEvent(
    nc,
    streamStarted(streamId, { content, engineId: `engine-${i}`, statUrl: session.statUrl }),
  );
}

async function samplesOf(streamId: string): Promise<number> {
  const res = await fetch(`${stats.url}/api/streams/${streamId}`);
  return ((await res.json()) as { samples: unknown[] }).samples.length;
}

test.serial('dashboard - a new stream shows up within 2 s of starting, without a reload', async (t) => {
  const earlier = new Date(Date.now() - 3 * 3600_000);
  for (const [i, s] of sims.entries()) await putEngineRecord(nc, readyEngine(`engine-${i}`, s.url, earlier));
  for (let i = 0; i < 6; i++) {
    const s = streamStarted(`history-${i}`, { engineId: `engine-${i % 2}` });
    await publishStreamEvent(nc, s);
    await publishStreamEvent(
      nc,
      streamEnded(s, i % 3 ? 'client_disconnected' : 'engine_eof', 40_000_000 * (i + 1), 1 + (i % 3)),
    );
  }
  await play(0, 'stream-one');
  sims[2]!.sim.faults.setGlobal({ hangHealth: true });

  const page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
  await page.goto(stats.url);
  await page.waitForSelector('#live[data-live="on"]', { timeout: 10_000 });
  await page.waitForSelector('[data-stream-id="stream-one"]', { timeout: 10_000 });
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));

  const startedAt = Date.now();
  await play(1, 'stream-two');
  await page.waitForSelector('[data-stream-id="stream-two"]', { timeout: 2000 });
  const latency = Date.now() - startedAt;
  t.log(`new stream on the dashboard ${latency} ms after its stream.started was published`);
  t.true(latency <= 2000);
  t.is(await page.evaluate(() => (window as unknown as { marker?: number }).marker), 42, 'no reload');
  t.is(await page.textContent('#stream-count'), '2');

  // Let samples and the health verdict arrive, then check the charts and alerts and take the screenshot.
  await page.waitForSelector('.alert.critical', { timeout: 10_000 });
  await waitFor(async () => (await samplesOf('stream-two')) >= CHART_SAMPLES, 20_000);
  const shot = await page.screenshot({ fullPage: false });
  const target = UPDATE_SCREENSHOT
    ? path.join(repoRoot, 'docs', 'dashboard.png')
    : path.join(dir, 'dashboard.png');
  await writeFile(target, shot);

  await page.click('a[href="#streams"]');
  await page.waitForSelector('.stream[data-stream-id="stream-two"] svg polyline', {
    state: 'attached',
    timeout: 5000,
  });
  t.true((await page.$$('.stream svg polyline')).length >= 4, 'peers and speed charts for both streams');
  await page.click('a[href="#events"]');
  await page.waitForSelector('#feed .item', { timeout: 5000 });
  t.true((await page.$$('#feed .item')).length >= 10);
  await page.click('a[href="#sessions"]');
  await page.waitForSelector('[data-session-id]', { timeout: 5000 });
  t.true((await page.$$('[data-session-id]')).length >= 8);
  await page.close();
});
