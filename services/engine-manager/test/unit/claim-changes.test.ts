import test from 'ava';
import type { EngineRecord } from '@acefleet/contracts';
import { readyEngine } from '@acefleet/testkit';
import { expiredClaims, withAdopted, withClaim, withRenewed } from '../../src/claims/claim-changes.ts';
import { hasRoom, rankCandidates } from '../../src/claims/placement.ts';

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

const ANY = 1000;

test('adoption - an offered stream becomes a claim of the offering proxy, claimed and renewed now', (t) => {
  const next = withAdopted(engine(4), 'proxy-a', AT, [{ claimId: 'local-1', contentKey: 'id:abc' }], ANY);
  t.deepEqual(next?.claims, [
    { claimId: 'local-1', contentKey: 'id:abc', proxyId: 'proxy-a', claimedAt: AT, renewedAt: AT },
  ]);
});

// Pins issue 22: 1000 forged offers in one renewal put an engine at 1000 claims (capacity 2); every new play
// got 503.
test('adoption - a full engine adopts nothing, and offers stop at its capacity', (t) => {
  const full = engine(2, { c1: 'proxy-b', c2: 'proxy-b' });
  t.false(hasRoom(full));
  t.is(withAdopted(full, 'proxy-a', AT, [{ claimId: 'local-1', contentKey: 'id:abc' }], ANY), undefined);

  const offers = Array.from({ length: 1000 }, (_, i) => ({ claimId: `forged-${i}`, contentKey: `id:${i}` }));
  const filled = withAdopted(engine(2, { c1: 'proxy-b' }), 'proxy-a', AT, offers, ANY);
  t.is(filled?.claims.length, 2, 'one offer took the last room, the other 999 are refused');
  t.false(hasRoom(filled!));
  t.deepEqual(
    rankCandidates([filled!], { contentKey: 'id:0' }, new Set()),
    [],
    'not even the same content is placed there',
  );
});

test('adoption - at most the allowed number of offers is adopted (the proxy bound)', (t) => {
  const offers = [1, 2, 3].map((i) => ({ claimId: `local-${i}`, contentKey: `id:${i}` }));
  t.is(withAdopted(engine(10), 'proxy-a', AT, offers, 2)?.claims.length, 2);
  t.is(withAdopted(engine(10), 'proxy-a', AT, offers, 0), undefined);
});

test('adoption - an id the record holds already is not added again, nor an offer twice', (t) => {
  const rec = engine(4, { 'local-1': 'proxy-a', other: 'proxy-b' });
  t.is(withAdopted(rec, 'proxy-a', AT, [{ claimId: 'local-1', contentKey: 'id:abc' }], ANY), undefined);
  t.is(
    withAdopted(rec, 'proxy-a', AT, [{ claimId: 'other', contentKey: 'id:abc' }], ANY),
    undefined,
    "another proxy's claim id is left alone",
  );
  const twice = withAdopted(
    engine(4),
    'proxy-a',
    AT,
    [
      { claimId: 'local-2', contentKey: 'id:abc' },
      { claimId: 'local-2', contentKey: 'id:abc' },
    ],
    ANY,
  );
  t.is(twice?.claims.length, 1);
});

test('adoption - an adopted claim is renewed like any other afterwards', (t) => {
  const adopted = withAdopted(engine(4), 'proxy-a', AT, [{ claimId: 'local-1', contentKey: 'id:abc' }], ANY)!;
  const later = '2026-01-01T00:00:30.000Z';
  const renewed = withRenewed(adopted, 'proxy-a', later, new Set(['local-1']));
  t.is(renewed?.claims[0]?.renewedAt, later);
  t.is(withRenewed(adopted, 'proxy-b', later, new Set(['local-1'])), undefined, 'only by its proxy');
});

test('expiry - a claim gets a full TTL from when this manager took over its host, renewed or not', (t) => {
  const rec = engine(4, { c1: 'proxy-a' });
  const claimedAt = Date.parse(rec.claims[0]!.claimedAt);
  const ttl = 1000;
  t.is(expiredClaims(rec, claimedAt + ttl + 1, ttl).length, 1, 'expired a TTL after its last renewal');
  t.is(expiredClaims(rec, claimedAt + ttl + 1, ttl, claimedAt + 500).length, 0, 'the new leader waits');
  t.is(expiredClaims(rec, claimedAt + ttl + 501, ttl, claimedAt + 500).length, 1, 'then it expires');
});

/** A claim of `proxy-s` on `id:<claimId>`, claimed at `claimedAt`, a standby one. */
function standbyClaim(claimId: string, claimedAt: string): EngineRecord['claims'][number] {
  return { claimId, contentKey: `id:${claimId}`, proxyId: 'proxy-s', claimedAt, standby: true };
}

const streamClaim = (claimId: string): EngineRecord['claims'][number] => ({
  claimId,
  contentKey: `id:${claimId}`,
  proxyId: 'proxy-a',
  claimedAt: AT,
});

test('standby - a stream on an engine full of standby claims gives up the oldest in the same write', (t) => {
  const full = {
    ...engine(2),
    claims: [standbyClaim('newer', '2026-01-01T00:00:09.000Z'), standbyClaim('older', AT)],
  };
  const added = withClaim(full, streamClaim('play'));
  t.is(added?.givenUp?.claimId, 'older');
  t.deepEqual(
    added?.record.claims.map((c) => c.claimId),
    ['newer', 'play'],
  );
});

test('standby - a stream takes free room without giving anything up; a standby never gives one up', (t) => {
  const one = { ...engine(2), claims: [standbyClaim('s1', AT)] };
  const added = withClaim(one, streamClaim('play'));
  t.is(added?.givenUp, undefined);
  t.is(added?.record.claims.length, 2);
  t.is(
    withClaim(added!.record, standbyClaim('s2', AT)),
    undefined,
    'a full engine has no room for a standby',
  );
  t.is(withClaim(engine(1, { c1: 'proxy-b' }), streamClaim('play')), undefined, 'streams are never given up');
});
