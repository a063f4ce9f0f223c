import test from 'ava';
import { LocalLeases } from '../../src/engines/local-leases.ts';

// Pins chaos finding 1 (bench/results/chaos.md, "claims missing"): streams placed by the proxy itself are
// offered to the manager until it adopts them, and are then released there like any claim.

test('local leases - counted per engine until released, each with its own claim id', (t) => {
  const leases = new LocalLeases();
  const a = leases.add('e1', 'id:a');
  const b = leases.add('e1', 'id:b');
  leases.add('e2', undefined);
  t.not(a, b);
  t.is(leases.count('e1'), 2);
  t.true(leases.releaseHere(a), 'never offered: nothing to release at the manager');
  t.is(leases.count('e1'), 1);
  t.false(leases.releaseHere('claim-of-the-manager'), 'not a local lease: released at the manager');
});

test('local leases - only fleet engines are offered; the adopted ones leave the local count', (t) => {
  const leases = new LocalLeases();
  const fleet = leases.add('e1', 'id:a');
  const other = leases.add('e1', 'id:b');
  leases.add('static:http://127.0.0.1:1', undefined);
  const offers = leases.offer();
  t.deepEqual(
    offers.map((o) => o.claimId),
    [fleet, other],
  );
  const adopted = leases.settle(offers, new Set([fleet]));
  t.deepEqual(
    adopted.map((o) => o.claimId),
    [fleet],
  );
  t.false(leases.has(fleet), 'adopted: a claim of the manager now');
  t.is(leases.count('e1'), 1);
  t.true(leases.releaseHere(other), 'refused by the manager: it holds nothing of it');
  t.false(leases.awaitingAdoption, 'a static engine is no one to adopt');
});

test('local leases - a lease offered in an unanswered renewal is released at the manager too', (t) => {
  const leases = new LocalLeases();
  const id = leases.add('e1', 'id:a');
  leases.offer();
  t.false(leases.releaseHere(id), 'the manager may have adopted it');
  t.deepEqual(leases.settle([{ engineId: 'e1', claimId: id, contentKey: 'id:a' }], new Set([id])), []);
});
