import test from 'ava';
import type { KV, KvEntry } from '@nats-io/kv';
import type { EngineRecord } from '@acefleet/contracts';
import { KEPT_TOMBSTONES, type Logger } from '@acefleet/platform';
import { EngineTable, type VersionedEngine } from '@acefleet/engine-records';

type Entry = Pick<KvEntry, 'key' | 'revision' | 'operation' | 'value'>;

function record(id: string, state: EngineRecord['state'] = 'ready'): EngineRecord {
  const at = new Date(0).toISOString();
  return {
    id,
    hostId: 'h1',
    baseUrl: `http://127.0.0.1:1/${id}`,
    state,
    capacity: 2,
    claims: [],
    createdAt: at,
    updatedAt: at,
  };
}

const put = (rec: EngineRecord, revision: number): Entry => ({
  key: rec.id,
  revision,
  operation: 'PUT',
  value: new TextEncoder().encode(JSON.stringify(rec)),
});

const del = (key: string, revision: number, operation: 'DEL' | 'PURGE' = 'DEL'): Entry => ({
  key,
  revision,
  operation,
  value: new Uint8Array(),
});

/** A table fed by hand (apply is what both the initial load and the watch call); records what it reports. */
function table(): {
  table: EngineTable;
  changes: [string, VersionedEngine | undefined][];
  warnings: string[];
} {
  const changes: [string, VersionedEngine | undefined][] = [];
  const warnings: string[] = [];
  // apply() touches neither the bucket nor more of the logger than warn.
  const log = { warn: (_obj: unknown, msg: string) => warnings.push(msg) } as unknown as Logger;
  const t = new EngineTable({} as KV, log, (id, engine) => changes.push([id, engine]));
  return { table: t, changes, warnings };
}

test('engine table - a put entry becomes a record with its revision, and is reported', (t) => {
  const { table: tbl, changes } = table();
  tbl.apply(put(record('e1'), 3));
  t.deepEqual(tbl.get('e1'), { record: record('e1'), revision: 3 });
  t.deepEqual(tbl.records(), [record('e1')]);
  t.deepEqual(changes, [['e1', { record: record('e1'), revision: 3 }]]);
});

test('engine table - a newer revision replaces the record', (t) => {
  const { table: tbl } = table();
  tbl.apply(put(record('e1', 'starting'), 1));
  tbl.apply(put(record('e1', 'ready'), 2));
  t.is(tbl.get('e1')?.record.state, 'ready');
  t.is(tbl.get('e1')?.revision, 2);
});

test('engine table - an older or equal revision arriving late is ignored', (t) => {
  const { table: tbl, changes } = table();
  tbl.apply(put(record('e1', 'draining'), 5));
  tbl.apply(put(record('e1', 'ready'), 4));
  tbl.apply(put(record('e1', 'ready'), 5));
  t.is(tbl.get('e1')?.record.state, 'draining');
  t.is(changes.length, 1, 'nothing reported for the stale entries');
});

test('engine table - a delete or purge removes the record and is reported', (t) => {
  const { table: tbl, changes } = table();
  tbl.apply(put(record('e1'), 1));
  tbl.apply(put(record('e2'), 2));
  tbl.apply(del('e1', 3));
  tbl.apply(del('e2', 4, 'PURGE'));
  t.is(tbl.get('e1'), undefined);
  t.deepEqual(tbl.all(), []);
  t.deepEqual(changes.slice(2), [
    ['e1', undefined],
    ['e2', undefined],
  ]);
});

test('engine table - a put older than the delete does not bring a removed engine back', (t) => {
  const { table: tbl } = table();
  tbl.apply(put(record('e1'), 1));
  tbl.apply(del('e1', 3));
  tbl.apply(put(record('e1'), 2));
  t.is(tbl.get('e1'), undefined);
  tbl.apply(put(record('e1'), 4));
  t.is(tbl.get('e1')?.revision, 4, 'a later put does');
});

test('engine table - a malformed record is logged and ignored, the previous one kept', (t) => {
  const { table: tbl, changes, warnings } = table();
  tbl.apply(put(record('e1'), 1));
  tbl.apply({ ...put(record('e1'), 2), value: new TextEncoder().encode('{not json') });
  tbl.apply(put({ ...record('e1'), baseUrl: 'ftp://nope' }, 3));
  t.is(tbl.get('e1')?.revision, 1);
  t.is(changes.length, 1);
  t.deepEqual(warnings, ['ignoring malformed engine record', 'ignoring malformed engine record']);
});

test('engine table - entries apply in any order across keys', (t) => {
  const { table: tbl } = table();
  tbl.apply(put(record('b'), 7));
  tbl.apply(put(record('a'), 2));
  t.deepEqual(
    tbl
      .records()
      .map((r) => r.id)
      .sort(),
    ['a', 'b'],
  );
});

test('engine table - remembers only the last deletes, yet a late older put after a recent delete stays ignored', (t) => {
  const { table: tbl, changes } = table();
  for (let i = 0; i < 5000; i++) {
    tbl.apply(put(record(`gone-${i}`), 2 * i + 1));
    tbl.apply(del(`gone-${i}`, 2 * i + 2));
  }
  t.is(tbl.all().length, 0);
  t.true(
    (tbl as unknown as { deletedAt: { size: number } }).deletedAt.size <= KEPT_TOMBSTONES,
    'one tombstone per engine ever removed would grow for months',
  );
  const before = changes.length;
  tbl.apply(put(record('gone-4999'), 9997));
  t.is(tbl.get('gone-4999'), undefined, 'the put older than the recent delete is not taken');
  tbl.apply(del('gone-4999', 10_000));
  t.is(changes.length, before, 'a delete of a key already gone reports nothing');
});
