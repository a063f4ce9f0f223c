import test from 'ava';
import { importPlaylist, openChannelsKv, parseM3u } from '@acefleet/channels';
import { NatsUsers } from '@acefleet/contracts';
import { scrapedPlaylist, startWebServer, waitFor, xmltvGuide, type WebServer } from '@acefleet/testkit';
import { startProxy, type ProxyUnderTest } from './helpers.ts';

let web: WebServer;

test.before(async () => {
  web = await startWebServer();
});
test.after.always(async () => {
  await web?.close();
});

/** A proxy whose channels come from one playlist naming `guides` in its header. */
async function proxyWithGuides(
  t: { teardown(fn: () => Promise<void>): void },
  guides: string[],
  env: Record<string, string> = {},
): Promise<ProxyUnderTest> {
  const proxy = await startProxy({
    STATIC_ENGINES: 'http://127.0.0.1:1',
    SOURCE_TIMEOUT_MS: '1000',
    GUIDE_MAX_BYTES: '200000',
    ...env,
  });
  t.teardown(() => proxy.close());
  const nc = await proxy.nats.connect(NatsUsers.operator);
  t.teardown(() => nc.close());
  await openChannelsKv(nc);
  const text = scrapedPlaylist({ tag: 'd', count: 2 }).replace(
    '#EXTM3U',
    `#EXTM3U url-tvg="${guides.join(',')}"`,
  );
  await importPlaylist(nc, '/lists/guided.m3u', parseM3u(text));
  await waitFor(
    async () => (await fetch(`${proxy.url}/playlist.m3u`).then((r) => r.text())).includes('d Channel 1'),
    10_000,
  );
  return proxy;
}

async function epg(proxy: ProxyUnderTest): Promise<{ status: number; type: string; text: string }> {
  const res = await fetch(`${proxy.url}/epg.xml`, { signal: AbortSignal.timeout(20_000) });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

test('guide - /epg.xml merges the guides the playlist names (plain and gzipped), channels first, each once', async (t) => {
  web.serve('/one.xml', { body: xmltvGuide(['d.ch0', 'shared']), type: 'application/xml' });
  web.serve('/two.xml.gz', { body: xmltvGuide(['d.ch1', 'shared']), gzip: true, type: 'application/gzip' });
  const proxy = await proxyWithGuides(t, [`${web.url}/one.xml`, `${web.url}/two.xml.gz`]);
  const guide = await epg(proxy);
  t.is(guide.status, 200);
  t.regex(guide.type, /^application\/xml/);
  t.regex(guide.text, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<!DOCTYPE tv SYSTEM "xmltv.dtd">\n<tv /);
  for (const id of ['d.ch0', 'd.ch1']) {
    t.true(guide.text.includes(`<channel id="${id}">`), id);
    t.true(guide.text.includes(`<title>${id} live</title>`), id);
  }
  t.is(guide.text.split('<channel id="shared">').length, 2, 'a channel two guides define is listed once');
  t.true(guide.text.lastIndexOf('<channel ') < guide.text.indexOf('<programme '), 'channels come first');
  t.true(guide.text.trimEnd().endsWith('</tv>'));

  const before = web.requests('/one.xml').count;
  await epg(proxy);
  t.is(web.requests('/one.xml').count, before, 'the merged guide is kept (GUIDE_CACHE_MS)');
});

test('guide - a guide that is not XMLTV, too large or hanging is left out and named; the others are served', async (t) => {
  web.serve('/good.xml', { body: xmltvGuide(['d.ch0']) });
  web.serve('/html.xml', { body: '<!DOCTYPE html><html><body>blocked</body></html>', type: 'text/html' });
  web.serve('/other.xml', { body: '<?xml version="1.0"?><rss><channel></channel></rss>' });
  web.serve('/cut.xml', { body: '<tv><channel id="x">' });
  web.serve('/huge.xml', { body: xmltvGuide(Array.from({ length: 3000 }, (_, i) => `c${i}`)) });
  web.serve('/hangs.xml', { hang: true });
  const bad = ['/html.xml', '/other.xml', '/cut.xml', '/huge.xml', '/hangs.xml'];
  const proxy = await proxyWithGuides(t, [`${web.url}/good.xml`, ...bad.map((p) => `${web.url}${p}`)]);
  const guide = await epg(proxy);
  t.is(guide.status, 200);
  t.true(guide.text.includes('<title>d.ch0 live</title>'));
  t.regex(guide.text, /left out: .*\/html\.xml is not an XMLTV guide: its root element is <html>, not <tv>/);
  t.regex(guide.text, /left out: .*\/other\.xml is not an XMLTV guide: its root element is <rss>/);
  t.regex(guide.text, /left out: .*\/cut\.xml is not a whole XMLTV guide/);
  t.regex(guide.text, /left out: .*\/huge\.xml is larger than 200000 bytes/);
  t.regex(guide.text, /left out: .*\/hangs\.xml: timed out after 1000 ms/);
});

test('guide - when no guide can be read, /epg.xml answers 502 saying why', async (t) => {
  web.serve('/only-html.xml', { body: '<html></html>', type: 'text/html' });
  const proxy = await proxyWithGuides(t, [`${web.url}/only-html.xml`]);
  const guide = await epg(proxy);
  t.is(guide.status, 502);
  const body = JSON.parse(guide.text) as { error: { code: string; message: string } };
  t.is(body.error.code, 'invalid_guide');
  t.regex(body.error.message, /only-html\.xml is not an XMLTV guide/);
});
