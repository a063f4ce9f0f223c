import test from 'ava';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { EngineRecord } from '@acefleet/contracts';
import { Player, startStack, waitFor, type Stack } from '@acefleet/testkit';

const CHROMIUM = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'];
const CONTENT = 'c3'.repeat(20);

let stack: Stack;
let browser: Browser;

test.before(async () => {
  stack = await startStack({ services: ['manager', 'proxy', 'stats'] });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM });
});
test.after.always(async () => {
  await browser?.close();
  await stack?.stop();
});

async function managerApi(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${stack.services.manager!.url}${path}`, init);
}

async function engines(): Promise<EngineRecord[]> {
  return ((await (await managerApi('/api/engines')).json()) as { engines: EngineRecord[] }).engines;
}

async function proxyStreams(): Promise<string[]> {
  const body = (await (await fetch(`${stack.proxyUrl()}/api/streams`)).json()) as {
    streams: { streamId: string }[];
  };
  return body.streams.map((s) => s.streamId);
}

async function useKey(page: Page, key: string): Promise<void> {
  await page.fill('#key-form input', key);
  await page.click('#key-form button[type="submit"]');
}

test.serial(
  'dashboard actions - hidden without a key; a wrong key shows the 403; the key drains, removes and stops',
  async (t) => {
    t.timeout(120_000);
    // A manager still starting on a busy machine answers 503 (with Retry-After) until it leads its host.
    const scaled = await waitFor(async () => {
      const res = await managerApi('/api/engines/scale', {
        method: 'POST',
        headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ replicas: 2 }),
      });
      return res.status === 503 ? false : res;
    }, 30_000);
    t.is(scaled.status, 200);
    const player = await Player.open(`${stack.proxyUrl()}/ace/getstream?id=${CONTENT}`);
    t.teardown(() => player.close());
    await waitFor(() => player.bytes > 50_000, 30_000);
    const [streamId] = await proxyStreams();
    const stop = `.stream[data-stream-id="${streamId}"] button[data-action="stop"]`;
    const [first, second] = await engines();

    const page = await browser.newPage();
    await page.goto(`${stack.services.stats!.url}/#engines`);
    await page.waitForSelector(`[data-engine-id="${second!.id}"]`, { timeout: 10_000 });
    t.is(await page.locator('button[data-action]').count(), 0, 'no action without a key (engines)');
    await page.click('a[href="#streams"]');
    await page.waitForSelector(`.stream[data-stream-id="${streamId}"]`, { timeout: 10_000 });
    t.is(await page.locator('button[data-action]').count(), 0, 'no action without a key (streams)');

    await useKey(page, 'not-the-key');
    await page.click(stop);
    await page.waitForSelector('#action-status[data-level="error"]', { timeout: 10_000 });
    t.regex((await page.textContent('#action-status')) ?? '', /HTTP 403 forbidden: wrong API key/);
    t.deepEqual(await proxyStreams(), [streamId], 'the wrong key stopped nothing');

    await useKey(page, stack.apiKey);
    await page.reload();
    await page.waitForSelector(stop, { timeout: 10_000 });
    t.true(await page.isVisible(stop), 'the key outlives a reload (sessionStorage)');
    await page.click(stop);
    await waitFor(async () => (await proxyStreams()).length === 0, 10_000);
    await waitFor(() => player.ended, 10_000);

    await page.click('a[href="#engines"]');
    await page.click(`[data-engine-id="${first!.id}"] button[data-action="drain"]`);
    await waitFor(async () => {
      const now = (await engines()).find((e) => e.id === first!.id);
      return now === undefined || now.state === 'draining';
    }, 10_000);
    await page.click(`[data-engine-id="${second!.id}"] button[data-action="remove"]`);
    await waitFor(async () => (await engines()).every((e) => e.id !== second!.id), 20_000);
    // The engine can leave the fleet before the remove call has answered the page: wait for the answer.
    await waitFor(
      async () => /Remove .*: done/.test((await page.textContent('#action-status')) ?? ''),
      20_000,
    );
    t.regex((await page.textContent('#action-status')) ?? '', /Remove .*: done/);

    await page.click('#key-form [data-forget]');
    t.is(await page.locator('button[data-action]').count(), 0, 'forgetting the key hides the actions');
    await page.close();
  },
);

test.serial('dashboard actions - the action routes need the key and reject unknown targets', async (t) => {
  const stats = stack.services.stats!.url;
  const post = (path: string, key?: string) =>
    fetch(`${stats}${path}`, { method: 'POST', headers: key ? { authorization: `Bearer ${key}` } : {} });
  for (const path of [
    '/api/actions/engines/x/drain',
    '/api/actions/engines/x/remove',
    '/api/actions/streams/x/stop',
  ]) {
    t.is((await post(path)).status, 401, `${path} without a key`);
    t.is((await post(path, 'wrong')).status, 403, `${path} with a wrong key`);
  }
  const noEngine = await post('/api/actions/engines/no-such-engine/drain', stack.apiKey);
  t.is(noEngine.status, 404);
  const noStream = await post('/api/actions/streams/no-such-stream/stop', stack.apiKey);
  t.is(noStream.status, 404);
  t.is(((await noStream.json()) as { error: { code: string } }).error.code, 'stream_not_found');
});
