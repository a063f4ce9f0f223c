import test from 'ava';
import { presets } from '../src/presets.ts';
import { dockerRuntimeFor as runtimeFor } from './helpers.ts';

const spec = { engineId: 'h1-abc', httpPort: 19000, p2pPort: 40001 };

test('runtime - host mode binds loopback and is reached on the engine host', (t) => {
  const r = runtimeFor('host');
  const c = r.containerSpec(spec);
  t.is(c.HostConfig?.NetworkMode, 'host');
  t.deepEqual(c.Cmd, ['--http-port', '19000', '--port', '40001']);
  t.is(r.baseUrlOf(spec), 'http://gluetun:19000');
});

test('runtime - a named bridge network binds all and addresses engines by container name', (t) => {
  const r = runtimeFor('acefleet-net');
  const c = r.containerSpec(spec);
  t.is(c.HostConfig?.NetworkMode, 'acefleet-net');
  t.true(c.Cmd?.includes('--bind-all'));
  t.is(r.baseUrlOf(spec), 'http://acefleet-engine-h1-abc:19000');
});

test('runtime - VPN mode joins the VPN container namespace, reached through the VPN host, own ports', (t) => {
  const r = runtimeFor('container:gluetun');
  const c = r.containerSpec(spec);
  t.is(c.HostConfig?.NetworkMode, 'container:gluetun');
  t.true(c.Cmd?.includes('--bind-all'));
  t.is(c.Labels?.['io.acefleet.p2p-port'], '40001');
  t.is(r.baseUrlOf(spec), 'http://gluetun:19000');
});

test('presets - real images get their ports the way each image takes them', (t) => {
  t.deepEqual(presets.jopsis.env(19000, 40001, true), [
    'ACESTREAM_ARGS=--client-console --bind-all --live-cache-type memory --http-port 19000 --https-port 19001 --port 40001',
  ]);
  t.deepEqual(presets.krinkuto11.env(19000, 40001, false), [
    'HTTP_PORT=19000',
    'HTTPS_PORT=19001',
    'BIND_ALL=false',
  ]);
  t.deepEqual(presets['acestream-http-proxy'].env(19000, 40001, true), [
    'ALLOW_REMOTE_ACCESS=yes',
    'EXTRA_FLAGS=--http-port 19000 --https-port 19001 --port 40001',
  ]);
  t.is(runtimeFor('host', 'jopsis').containerSpec(spec).Image, 'jopsis/acestream:x64');
});

test('runtime - a container made with other settings carries another config hash', (t) => {
  t.not(runtimeFor('host').configHash, runtimeFor('acefleet-net').configHash);
  t.is(runtimeFor('host').configHash, runtimeFor('host').configHash);
});
