import test from 'ava';
import type { StreamStarted } from '@acefleet/contracts';
import { EventPublisher, createLogger } from '@acefleet/platform';
import { openDatabase } from '../../src/db.ts';
import { ProxyWatch } from '../../src/proxy-watch.ts';
import { SessionStore } from '../../src/store.ts';

const log = createLogger('proxy-watch-test', 'silent');
const opts = { lostAfterMs: 3000, intervalMs: 750, waitMs: 500 };
const P1 = 'edge-proxy.run1';

/** A watch over one active session of proxy `edge-proxy.run1`, with a clock and proxy answers the test controls. */
function world() {
  const sessions = new SessionStore(openDatabase(':memory:'));
  const started: StreamStarted = {
    streamId: 's1',
    content: { kind: 'id', value: 'a'.repeat(40) },
    engineId: 'e1',
    proxyId: P1,
    startedAt: new Date().toISOString(),
  };
  sessions.recordStarted(started);
  const events = new EventPublisher(undefined, log); // not connected: published ends stay countable
  const clock = { now: 0, answering: new Set([P1]) };
  const watch = new ProxyWatch(
    () => Promise.resolve(new Set(clock.answering)),
    sessions,
    events,
    opts,
    log,
    () => clock.now,
  );
  /** One presence round `ms` after the last one. */
  const round = async (ms: number): Promise<void> => {
    clock.now += ms;
    await watch.check();
  };
  return { events, clock, round };
}

test('proxy watch - a proxy silent for PROXY_LOST_AFTER_MS of rounds has its sessions ended', async (t) => {
  const { events, clock, round } = world();
  await round(750);
  clock.answering.clear();
  for (let i = 0; i < 3; i++) await round(750);
  t.is(events.pending, 0, 'silent for 2.25 s: not yet');
  await round(750);
  t.is(events.pending, 1, 'silent for 3 s: its session is ended');
});

// Regression (chaos run): stats SIGSTOPped for 60 s found no answer in its first round after SIGCONT (its NATS
// connection was still catching up) and ended every session of a proxy that played on all along.
test('proxy watch - rounds missed while stats itself was stopped do not count as the proxy’s silence', async (t) => {
  const { events, clock, round } = world();
  await round(750);
  clock.answering.clear(); // the first rounds after the pause hear nothing
  await round(60_000);
  t.is(events.pending, 0, 'the pause is not the proxy’s silence');
  await round(750);
  await round(750);
  t.is(events.pending, 0, 'its grace restarted when stats came back');
  clock.answering.add(P1);
  await round(750);
  await round(750);
  t.is(events.pending, 0, 'it answers again: nothing ends');
});

// Issue 21: stats told a restarted proxy by its HTTP address, which every proxy bound to 0.0.0.0 announced
// alike (127.0.0.1:8080): another proxy answering there ended a live proxy's sessions during a hiccup.
test('proxy watch - another proxy is no successor; a new run of the same proxy ends its sessions at once', async (t) => {
  const { events, clock, round } = world();
  await round(750);
  clock.answering.clear();
  clock.answering.add('edge-proxy-1.other');
  await round(750);
  t.is(events.pending, 0, 'another proxy (its own NATS user) answering is not a restart of this one');
  clock.answering.add('edge-proxy.run2');
  await round(750);
  t.is(events.pending, 1, 'the same proxy with a new run: it was restarted, its old sessions end');
});
