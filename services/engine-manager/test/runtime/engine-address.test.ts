import test from 'ava';
import type { EngineRecord } from '@acefleet/contracts';
import { isOwnEngineAddress, type EngineAddressRules } from '../../src/runtime/engine-address.ts';

const now = new Date().toISOString();
const record = (over: Partial<EngineRecord>): EngineRecord => ({
  id: 'e1',
  hostId: 'h1',
  baseUrl: 'http://127.0.0.1:19010',
  state: 'ready',
  capacity: 2,
  claims: [],
  createdAt: now,
  updatedAt: now,
  ...over,
});
const hostRules: EngineAddressRules = {
  hostId: 'h1',
  httpPortRangeStart: 19000,
  httpPortRangeEnd: 19099,
  runtime: { baseUrlOf: ({ httpPort }) => `http://127.0.0.1:${httpPort}` },
};
const bridgeRules: EngineAddressRules = {
  ...hostRules,
  runtime: { baseUrlOf: ({ engineId, httpPort }) => `http://acefleet-engine-${engineId}:${httpPort}` },
};

test('engine address - an engine of this host at its runtime address on a port of its range is handed out', (t) => {
  t.true(isOwnEngineAddress(record({}), hostRules));
  t.true(isOwnEngineAddress(record({ baseUrl: 'http://acefleet-engine-e1:19010' }), bridgeRules));
});

test('engine address - forged or foreign records are refused', (t) => {
  const refused: [string, EngineRecord, EngineAddressRules][] = [
    ['another host', record({ hostId: 'h2' }), hostRules],
    ['another address', record({ baseUrl: 'http://attacker.invalid:19010' }), hostRules],
    ['a port outside the range', record({ baseUrl: 'http://127.0.0.1:8080' }), hostRules],
    ['no port', record({ baseUrl: 'http://127.0.0.1' }), hostRules],
    ['a path after the address', record({ baseUrl: 'http://127.0.0.1:19010/x' }), hostRules],
    ['credentials in the URL', record({ baseUrl: 'http://u:p@127.0.0.1:19010' }), hostRules],
    ["another engine's container", record({ baseUrl: 'http://acefleet-engine-e2:19010' }), bridgeRules],
    ['not a URL', record({ baseUrl: 'http://[' }), hostRules],
  ];
  for (const [what, rec, rules] of refused) t.false(isOwnEngineAddress(rec, rules), what);
});
