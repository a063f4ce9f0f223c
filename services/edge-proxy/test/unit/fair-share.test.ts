import test from 'ava';
import { AcefleetError } from '@acefleet/contracts';
import { Admission } from '../../src/admission/admission.ts';
import { LingeringStreams } from '../../src/admission/lingering.ts';

// Issue 22: lingering streams did not count toward a client's share, so one address could hold the whole
// fleet by opening and dropping channels. The rules themselves, without sockets or engines.

/** An admission whose streams linger while `lingering` holds them, and whose reclaims are recorded. */
function world(maxStreamsPerClient: number) {
  const linger = new Set<string>();
  const reclaimed: string[] = [];
  const share = {
    lingering: new LingeringStreams(),
    lingers: (key: string) => linger.has(key),
    reclaim: (key: string) => {
      reclaimed.push(key);
      linger.delete(key);
    },
  };
  const admissions = new Admission(
    { maxStreams: 100, maxPlayers: 100 },
    { streams: () => 0, players: () => 0, ringMemoryFull: () => false },
    share,
  );
  /** Admission for client address `client`, whose share is `maxStreamsPerClient`. */
  const admission = {
    admit: (client: string, key: string, opts: { opensStream: boolean; asPlayer: boolean }) =>
      admissions.admit({ key: client, maxStreams: maxStreamsPerClient }, key, opts),
  };
  /** A player of `key` from `client` comes and goes: the stream is left lingering in its name. */
  const playAndLeave = (client: string, key: string): void => {
    admission.admit(client, key, { opensStream: true, asPlayer: true })();
    linger.add(key);
  };
  return { admission, share, linger, reclaimed, playAndLeave };
}

const player = { opensStream: true, asPlayer: true };

test('share - a client at its share with streams left lingering gets its own oldest one ended, not a 429', (t) => {
  const w = world(2);
  w.playAndLeave('a', 'k1');
  w.playAndLeave('a', 'k2');
  t.notThrows(() => w.admission.admit('a', 'k3', player));
  t.deepEqual(w.reclaimed, ['k1'], 'the oldest of its own lingering streams');
  t.notThrows(() => w.admission.admit('a', 'k4', player));
  t.deepEqual(w.reclaimed, ['k1', 'k2']);
});

test('share - playing and lingering streams count together; with none lingering the next one is refused', (t) => {
  const w = world(2);
  w.playAndLeave('a', 'k1');
  w.admission.admit('a', 'k2', player);
  w.admission.admit('a', 'k3', player);
  t.deepEqual(w.reclaimed, ['k1'], 'its lingering stream gave way first');
  const err = t.throws(() => w.admission.admit('a', 'k4', player), { instanceOf: AcefleetError });
  t.is(err?.code, 'too_many_client_streams');
});

test("share - another client's lingering streams are not this client's share, and joining one makes it playing", (t) => {
  const w = world(2);
  w.playAndLeave('a', 'k1');
  w.admission.admit('b', 'k2', player);
  t.notThrows(() => w.admission.admit('b', 'k1', player), "b joins a's lingering stream: b's second");
  w.linger.delete('k1');
  t.is(w.share.lingering.oldest(w.share.lingers), undefined, 'k1 plays again: it lingers for nobody');
  w.admission.admit('a', 'k3', player);
  w.admission.admit('a', 'k4', player);
  t.deepEqual(w.reclaimed, [], "what b plays now is not a's share");
});

test('share - an HLS slot given back leaves nothing lingering; the oldest lingering stream is found across clients', (t) => {
  const w = world(4);
  w.admission.admit('a', 'hls', { opensStream: true, asPlayer: false })();
  w.playAndLeave('b', 'k1');
  w.playAndLeave('a', 'k2');
  t.is(w.share.lingering.oldest(w.share.lingers), 'k1');
  w.linger.delete('k1');
  t.is(w.share.lingering.oldest(w.share.lingers), 'k2', 'an ended one is skipped');
});
