import test from 'ava';
import type { EngineRecord } from '@acefleet/contracts';
import { readyEngine } from '@acefleet/testkit';
import { withAdopted, withRenewed } from '../../src/leases.ts';
import { hasRoom, rankCandidates } from '../../src/placement.ts';

// Pins chaos finding 1 (bench/results/chaos.md, "claims missing"): streams a proxy placed by itself while the
// manager did not answer had no claim, so the manager saw their engines freer than they were.

const AT = '2026-01-01T00:00:00.000Z';

/** An engine of `capacity` holding `claims` (claim id to proxy id). */
function engine(capacity: number, claims: Record<string, string> = {}): EngineRecord {
  const rec = readyEngine('e1', 'http://127.0.0.1:1/e1');
  return {
    ...rec,
    capacity,
    claims: Object.entries(claims).map(([claimId, proxyId]) => ({
      claimId,
      contentKey: `id:${claimId}`,
      proxyId,
      claimedAt: rec.createdAt,
    })),
  };
}

test('adoption - an offered stream becomes a claim of the offering proxy, claimed and renewed now', (t) => {
  const next = withAdopted(engine(4), 'proxy-a', AT, [{ claimId: 'local-1', contentKey: 'id:abc' }]);
  t.deepEqual(next?.claims, [
    { claimId: 'local-1', contentKey: 'id:abc', proxyId: 'proxy-a', claimedAt: AT, renewedAt: AT },
  ]);
});

test('adoption - a full engine still adopts, and placement then sees it as full', (t) => {
  const full = engine(2, { c1: 'proxy-b', c2: 'proxy-b' });
  t.false(hasRoom(full));
  const next = withAdopted(full, 'proxy-a', AT, [{ claimId: 'local-1', contentKey: 'id:abc' }]);
  t.is(next?.claims.length, 3, 'the stream plays there: the record says so, over capacity');
  t.false(hasRoom(next!));
  t.deepEqual(rankCandidates([next!], 'id:abc', new Set()), [], 'not even the same content is placed there');

  const roomForOne = engine(2, { c1: 'proxy-b' });
  const filled = withAdopted(roomForOne, 'proxy-a', AT, [{ claimId: 'local-1', contentKey: 'id:abc' }]);
  t.false(hasRoom(filled!), 'the adopted stream took the last room');
});

test('adoption - an id the record holds already is not added again, nor an offer twice', (t) => {
  const rec = engine(4, { 'local-1': 'proxy-a', other: 'proxy-b' });
  t.is(withAdopted(rec, 'proxy-a', AT, [{ claimId: 'local-1', contentKey: 'id:abc' }]), undefined);
  t.is(
    withAdopted(rec, 'proxy-a', AT, [{ claimId: 'other', contentKey: 'id:abc' }]),
    undefined,
    "another proxy's claim id is left alone",
  );
  const twice = withAdopted(engine(4), 'proxy-a', AT, [
    { claimId: 'local-2', contentKey: 'id:abc' },
    { claimId: 'local-2', contentKey: 'id:abc' },
  ]);
  t.is(twice?.claims.length, 1);
});

test('adoption - an adopted claim is renewed like any other afterwards', (t) => {
  const adopted = withAdopted(engine(4), 'proxy-a', AT, [{ claimId: 'local-1', contentKey: 'id:abc' }])!;
  const later = '2026-01-01T00:00:30.000Z';
  const renewed = withRenewed(adopted, 'proxy-a', later, new Set(['local-1']));
  t.is(renewed?.claims[0]?.renewedAt, later);
  t.is(withRenewed(adopted, 'proxy-b', later, new Set(['local-1'])), undefined, 'only by its proxy');
});
