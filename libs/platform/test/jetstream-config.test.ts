import test from 'ava';
import { Type } from '@sinclair/typebox';
import { CommonConfig, loadConfig } from '../src/config/config.ts';
import { natsServers } from '../src/nats/nats.ts';
import { natsServerConfig } from '../src/nats/nats-auth.ts';
import { natsRoutesEnv } from '../src/nats/nats-route.ts';

const Common = Type.Object(CommonConfig);

test('config - JS_REPLICAS is 1 unless set, and only 1 to 3', (t) => {
  t.is(loadConfig(Common, {}).jsReplicas, 1);
  t.is(loadConfig(Common, { JS_REPLICAS: '3' }).jsReplicas, 3);
  for (const bad of ['0', '4', 'three']) {
    t.throws(() => loadConfig(Common, { JS_REPLICAS: bad }), { message: /JS_REPLICAS/ }, bad);
  }
});

test('nats - a NATS_URL list gives every server, blanks and spaces dropped', (t) => {
  t.deepEqual(natsServers(' nats://a:4222, nats://b:4222 ,,nats://c:4222,'), [
    'nats://a:4222',
    'nats://b:4222',
    'nats://c:4222',
  ]);
  t.deepEqual(natsServers('nats://127.0.0.1:4222'), ['nats://127.0.0.1:4222']);
});

test('nats auth - a cluster node config names its route password and peer URLs, and holds neither', (t) => {
  const peers = ['127.0.0.1:6001', '127.0.0.1:6002'];
  const env = natsRoutesEnv(peers, 'proutesecret');
  const config = natsServerConfig({
    storeDir: '/data',
    cluster: { serverName: 'nats-1', name: 'acefleet', listen: '127.0.0.1:6000', peers },
  });
  t.false(config.includes('proutesecret'));
  t.regex(config, /server_name: "nats-1"/);
  t.regex(config, /authorization: \{ user: "route", password: \$NATS_ROUTE_PASSWORD \}/);
  t.regex(config, /routes: \[\$NATS_ROUTE_0, \$NATS_ROUTE_1\]/);
  t.is(env.NATS_ROUTE_1, 'nats-route://route:proutesecret@127.0.0.1:6002');
});
