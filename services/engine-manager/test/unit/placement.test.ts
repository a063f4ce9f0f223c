import test from 'ava';
import type { EngineRecord } from '@acefleet/contracts';
import { readyEngine } from '@acefleet/testkit';
import { hasRoom, hasRoomFor, isFree, otherHostsByLoad, rankCandidates } from '../../src/claims/placement.ts';

const NO_ONE = new Set<string>();
const STREAM = { contentKey: 'c1' };
const STANDBY = { contentKey: 'c1', standby: true };

/** An engine of `capacity` holding one claim per content key in `playing`. */
function engine(
  id: string,
  opts: {
    state?: EngineRecord['state'];
    capacity?: number;
    playing?: string[];
    /** Content keys held by standby claims, after those of `playing`. */
    standing?: string[];
    hostId?: string;
  } = {},
): EngineRecord {
  const rec = readyEngine(id, `http://127.0.0.1:1/${id}`);
  return {
    ...rec,
    hostId: opts.hostId ?? 'h1',
    state: opts.state ?? 'ready',
    capacity: opts.capacity ?? 4,
    claims: [
      ...(opts.playing ?? []).map((contentKey, i) => ({
        claimId: `${id}-c${i}`,
        contentKey,
        proxyId: 'proxy-1',
        claimedAt: rec.createdAt,
      })),
      ...(opts.standing ?? []).map((contentKey, i) => ({
        claimId: `${id}-s${i}`,
        contentKey,
        proxyId: 'proxy-1',
        claimedAt: rec.createdAt,
        standby: true,
      })),
    ],
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
    STREAM,
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
    STREAM,
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
    STREAM,
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
    STREAM,
    new Set(['excluded']),
  );
  t.deepEqual(ids(ranked), ['ok']);
  t.deepEqual(rankCandidates([], STREAM, NO_ONE), []);
});

test('placement - a free engine has room and no stream', (t) => {
  t.true(isFree(engine('a')));
  t.true(isFree(engine('a', { state: 'starting' })));
  t.false(isFree(engine('a', { playing: ['x'] })));
  t.false(isFree(engine('a', { state: 'draining' })));
});

test('placement - a stream takes free room first, then the room of a standby claim', (t) => {
  const ranked = rankCandidates(
    [
      engine('standby-full', { capacity: 2, playing: ['a'], standing: ['b'] }),
      engine('streams-full', { capacity: 2, playing: ['a', 'b'] }),
      engine('busy-free', { capacity: 4, playing: ['a', 'b', 'c'] }),
    ],
    STREAM,
    NO_ONE,
  );
  t.deepEqual(ids(ranked), ['busy-free', 'standby-full']);
});

test('placement - a standby takes only free room of a ready engine, another host than the excluded first', (t) => {
  const ranked = rankCandidates(
    [
      engine('playing', { hostId: 'a', playing: ['c1'] }),
      engine('same-host-empty', { hostId: 'a' }),
      engine('other-host-busy', { hostId: 'b', playing: ['x', 'y'] }),
      engine('other-host-light', { hostId: 'b', playing: ['x'] }),
      engine('standby-full', { hostId: 'b', capacity: 1, standing: ['z'] }),
      engine('starting', { hostId: 'b', state: 'starting' }),
    ],
    STANDBY,
    new Set(['playing']),
  );
  t.deepEqual(ids(ranked), ['other-host-light', 'other-host-busy', 'same-host-empty']);
});

test('placement - an engine holding only standby claims is a warm spare', (t) => {
  t.true(isFree(engine('a', { capacity: 1, standing: ['x'] })));
  t.false(isFree(engine('a', { playing: ['x'], standing: ['y'] })));
  t.true(hasRoomFor(engine('a', { capacity: 1, standing: ['x'] }), false));
  t.false(hasRoomFor(engine('a', { capacity: 1, standing: ['x'] }), true));
  t.false(hasRoomFor(engine('a', { capacity: 1, state: 'draining', standing: ['x'] }), false));
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

test('rankCandidates - a re-claim goes back to the engine the stream plays from while it has room, before affinity and load', (t) => {
  const playing = engine('playing', { playing: ['x', 'y'] });
  const affine = engine('affine', { playing: ['c1'] });
  const empty = engine('empty');
  const records = [empty, affine, playing];
  t.deepEqual(
    rankCandidates(records, STREAM, NO_ONE).map((r) => r.id),
    ['affine', 'empty', 'playing'],
    'without a preference: affinity, then load',
  );
  t.deepEqual(
    rankCandidates(records, STREAM, NO_ONE, 'playing').map((r) => r.id),
    ['playing', 'affine', 'empty'],
  );
  const full = engine('playing', { capacity: 2, playing: ['x', 'y'] });
  t.deepEqual(
    rankCandidates([empty, affine, full], STREAM, NO_ONE, 'playing').map((r) => r.id),
    ['affine', 'empty'],
    'a preferred engine without room is no candidate',
  );
  t.deepEqual(
    rankCandidates(records, STANDBY, NO_ONE, 'playing').map((r) => r.id)[0],
    'empty',
    'a standby ignores the preference: least loaded',
  );
});
