import test from 'ava';
import type { StreamStarted } from '@acefleet/contracts';
import { openDatabase } from '../src/db.ts';
import { SessionStore } from '../src/store.ts';
import { usageSummary } from '../src/usage.ts';

// Issue 21: a channel playing on two proxies showed the larger single session's peak, not the viewers it had.

const content = { kind: 'id' as const, value: 'AB'.repeat(20) };

function started(streamId: string, proxyId: string, at: Date): StreamStarted {
  return { streamId, content, engineId: 'e1', proxyId, startedAt: at.toISOString() };
}

test('stats usage - a channel’s peak viewers are summed over the proxies playing it at once', (t) => {
  const db = openDatabase(':memory:');
  const sessions = new SessionStore(db);
  const t0 = Date.now() - 60_000;
  const at = (s: number) => new Date(t0 + s * 1000).toISOString();
  sessions.recordStarted(started('on-a', 'edge-proxy.a', new Date(t0)));
  sessions.recordStarted(started('on-b', 'edge-proxy-1.b', new Date(t0)));
  sessions.recordViewers({ streamId: 'on-a', proxyId: 'edge-proxy.a', viewers: 3, at: at(1) });
  sessions.recordViewers({ streamId: 'on-b', proxyId: 'edge-proxy-1.b', viewers: 4, at: at(2) });
  // Later one proxy's audience leaves: the peak of the day stays what both had at once.
  sessions.recordViewers({ streamId: 'on-a', proxyId: 'edge-proxy.a', viewers: 0, at: at(3) });
  const [row] = usageSummary(db, 'content', { limit: 10 });
  t.is(row?.key, `id:${content.value.toLowerCase()}`);
  t.is(row?.peakViewers, 7, 'three on one proxy and four on the other, at once');
});
