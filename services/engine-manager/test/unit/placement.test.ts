import test from 'ava';
import type { EngineRecord } from '@acefleet/contracts';
import { readyEngine } from '@acefleet/testkit';
import { hasRoom, isFree, otherHostsByLoad, rankCandidates } from '../../src/claims/placement.ts';

const NO_ONE = new Set<string>();

/** An engine of `capacity` holding one claim per content key in `playing`. */
function engine(
  id: string,
  opts: { state?: EngineRecord['state']; capacity?: number; playing?: string[]; hostId?: string } = {},
): EngineRecord {
  const rec = readyEngine(id, `http://127.0.0.1:1/${id}`);
  return {
    ...rec,
    hostId: opts.hostId ?? 'h1',
    state: opts.state ?? 'ready',
    capacity: opts.capacity ?? 4,
    claims: (opts.playing ?? []).map((contentKey, i) => ({
      claimId: `${id}-c${i}`,
      contentKey,
      proxyId: 'proxy-1',
      claimedAt: rec.createdAt,
    })),
  };
}

const ids = (records: EngineRecord[]): string[] => records.map((r) => r.id);

test('placement - only ready or starting engines below capacity have room', (t) => {
  t.true(hasRoom(engine('a')));
  t.true(hasRoom(engine('a', { state: 'starting' })));
  t.false(hasRoom(engine('a', { state: 'draining' })));
  t.false(hasRoom(engine('a', { state: 'unhealthy' })));
  t.false(hasRoom(engine('a', { capacity: 2, playing: ['x', 'y'] })));
  t.true(hasRoom(engine('a', { capacity: 2, playing: ['x'] })));
});

test('placement - an engine already playing the content comes first, even when busier', (t) => {
  const ranked = rankCandidates(
    [engine('idle'), engine('busy', { playing: ['other', 'c1', 'other2'] })],
    'c1',
    NO_ONE,
  );
  t.deepEqual(ids(ranked), ['busy', 'idle']);
});

test('placement - ready engines come before starting ones, then the least loaded', (t) => {
  const ranked = rankCandidates(
    [
      engine('starting-empty', { state: 'starting' }),
      engine('ready-half', { playing: ['a', 'b'] }),
      engine('ready-quarter', { playing: ['a'] }),
      engine('ready-empty'),
    ],
    'c1',
    NO_ONE,
  );
  t.deepEqual(ids(ranked), ['ready-empty', 'ready-quarter', 'ready-half', 'starting-empty']);
});

test('placement - load is compared as a share of capacity', (t) => {
  const ranked = rankCandidates(
    [
      engine('small', { capacity: 2, playing: ['a'] }),
      engine('large', { capacity: 10, playing: ['a', 'b'] }),
    ],
    'c1',
    NO_ONE,
  );
  t.deepEqual(ids(ranked), ['large', 'small'], '2/10 is lighter than 1/2');
});

test('placement - excluded, full, draining and unhealthy engines are never candidates', (t) => {
  const ranked = rankCandidates(
    [
      engine('excluded', { playing: ['c1'] }),
      engine('full', { capacity: 1, playing: ['c1'] }),
      engine('draining', { state: 'draining', playing: ['c1'] }),
      engine('unhealthy', { state: 'unhealthy' }),
      engine('ok'),
    ],
    'c1',
    new Set(['excluded']),
  );
  t.deepEqual(ids(ranked), ['ok']);
  t.deepEqual(rankCandidates([], 'c1', NO_ONE), []);
});

test('placement - a free engine has room and no stream', (t) => {
  t.true(isFree(engine('a')));
  t.true(isFree(engine('a', { state: 'starting' })));
  t.false(isFree(engine('a', { playing: ['x'] })));
  t.false(isFree(engine('a', { state: 'draining' })));
});

test('placement - other hosts are offered with the fewest engines first, never our own', (t) => {
  const records = [
    engine('a1', { hostId: 'a' }),
    engine('a2', { hostId: 'a' }),
    engine('a3', { hostId: 'a' }),
    engine('b1', { hostId: 'b' }),
    engine('self1', { hostId: 'self' }),
    engine('c1', { hostId: 'c' }),
    engine('c2', { hostId: 'c' }),
  ];
  t.deepEqual(otherHostsByLoad(records, 'self'), ['b', 'c', 'a']);
  t.deepEqual(otherHostsByLoad([engine('s', { hostId: 'self' })], 'self'), []);
});
