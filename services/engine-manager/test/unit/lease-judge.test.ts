import test from 'ava';
import { LeaseJudge, leaseTimes, type LeaseView } from '../../src/leadership/lease-judge.ts';

const TTL = 10_000;
/** How long a revision must stay unchanged before a standby takes over. */
const WAIT = leaseTimes(TTL).takeoverAfterMs;
const held = (revision: number, holder = 'other'): LeaseView => ({
  vacant: false,
  revision,
  holder,
  ttlMs: TTL,
});

test('lease judge - a vacant lease (none yet, or handed over) is created at once', (t) => {
  const judge = new LeaseJudge('me');
  t.deepEqual(judge.decide({ vacant: true }, 0), { kind: 'create' });
  t.deepEqual(judge.decide({ vacant: true }, 1), { kind: 'create' });
});

test('lease timing - a leader stops acting before any standby may start, and a dead one is replaced within the TTL', (t) => {
  const { renewEveryMs, validForMs, takeoverAfterMs, pollEveryMs } = leaseTimes(TTL);
  t.true(
    validForMs < takeoverAfterMs,
    'the leader (from sending) gives up before the standby (from seeing) takes over',
  );
  t.true(renewEveryMs * 2 < validForMs, 'a renewal can fail once without the leader stepping down');
  t.true(takeoverAfterMs + 2 * pollEveryMs <= TTL, 'death to takeover, polls included, within the TTL');
});

test('lease judge - a lease whose revision stays unchanged for the takeover time on our clock is taken over', (t) => {
  const judge = new LeaseJudge('me');
  t.is(judge.decide(held(5), 1_000).kind, 'wait');
  t.is(judge.decide(held(5), 1_000 + WAIT - 1).kind, 'wait');
  t.deepEqual(judge.decide(held(5), 1_000 + WAIT), { kind: 'take_over', revision: 5, why: 'expired' });
});

test('lease judge - every renewal restarts the wait from when we first saw it', (t) => {
  const judge = new LeaseJudge('me');
  t.is(judge.decide(held(5), 0).kind, 'wait');
  t.is(judge.decide(held(6), WAIT - 1).kind, 'wait');
  t.is(judge.decide(held(6), WAIT + 5).kind, 'wait', 'revision 6 has only been seen for 6 ms');
  t.is(judge.decide(held(6), 2 * WAIT - 2).kind, 'wait');
  t.is(judge.decide(held(6), 2 * WAIT - 1).kind, 'take_over');
});

test('lease judge - the TTL is the one the holder wrote, not ours', (t) => {
  const judge = new LeaseJudge('me');
  const long: LeaseView = { vacant: false, revision: 3, holder: 'other', ttlMs: 3 * TTL };
  t.is(judge.decide(long, 0).kind, 'wait');
  t.is(judge.decide(long, 3 * WAIT - 1).kind, 'wait');
  t.is(judge.decide(long, 3 * WAIT).kind, 'take_over');
});

test('lease judge - a lease under our instance id is taken back at once on the first look only', (t) => {
  const restarted = new LeaseJudge('me');
  t.deepEqual(restarted.decide(held(9, 'me'), 0), { kind: 'take_over', revision: 9, why: 'own_from_before' });

  const later = new LeaseJudge('me');
  t.is(later.decide(held(9, 'other'), 0).kind, 'wait');
  t.is(later.decide(held(10, 'me'), 1).kind, 'wait', 'a twin with our id holds it: it must expire first');
});

test('lease judge - a lease still at the revision we last wrote is taken back at once', (t) => {
  const judge = new LeaseJudge('me');
  judge.decide({ vacant: true }, 0);
  judge.wrote(4);
  judge.reset();
  t.deepEqual(judge.decide(held(4, 'me'), 1), { kind: 'take_over', revision: 4, why: 'still_ours' });
  t.is(judge.decide(held(5, 'other'), 2).kind, 'wait', 'someone wrote since: wait it out');
});

test('lease judge - after stepping down the next lease must stay unchanged for a full takeover time', (t) => {
  const judge = new LeaseJudge('me');
  t.is(judge.decide(held(7), 0).kind, 'wait');
  judge.reset();
  t.is(judge.decide(held(7), WAIT).kind, 'wait', 'what was seen before stepping down no longer counts');
  t.is(judge.decide(held(7), 2 * WAIT).kind, 'take_over');
});
