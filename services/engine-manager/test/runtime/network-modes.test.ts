import test from 'ava';
import { presets } from '../../src/runtime/presets.ts';
import { dockerRuntimeFor as runtimeFor } from '../helpers.ts';

const spec = { engineId: 'h1-abc', httpPort: 19000, p2pPort: 40001 };

test('runtime - host mode binds loopback and is reached on the engine host', (t) => {
  const r = runtimeFor('host');
  const c = r.containerSpec(spec);
  t.is(c.HostConfig?.NetworkMode, 'host');
  t.deepEqual(c.Cmd, ['--http-port', '19000', '--port', '40001']);
  t.is(r.baseUrlOf(spec), 'http://gluetun:19000');
});

test("runtime - on a bridge network (the default) the HTTP port is published on the host's loopback only and reached there", (t) => {
  const r = runtimeFor('acefleet-engines');
  const c = r.containerSpec(spec);
  t.is(c.HostConfig?.NetworkMode, 'acefleet-engines');
  t.true(c.Cmd?.includes('--bind-all'));
  t.deepEqual(c.HostConfig?.PortBindings?.['19000/tcp'], [{ HostIp: '127.0.0.1', HostPort: '19000' }]);
  t.is(r.baseUrlOf(spec), 'http://gluetun:19000', 'at ENGINE_HOST');
});

test('runtime - a bridge network whose HTTP ports are not published (ENGINE_HTTP_BIND=none) addresses engines by container name', (t) => {
  const r = runtimeFor('acefleet-net', 'ace-sim', { ENGINE_HTTP_BIND: 'none' });
  const c = r.containerSpec(spec);
  t.true(c.Cmd?.includes('--bind-all'));
  t.is(c.HostConfig?.PortBindings?.['19000/tcp'], undefined);
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

test('runtime - on a bridge network the P2P port is published on the host over TCP and UDP', (t) => {
  const c = runtimeFor('acefleet-net', 'ace-sim', { ENGINE_HTTP_BIND: 'none' }).containerSpec(spec);
  t.deepEqual(Object.keys(c.ExposedPorts ?? {}), ['40001/tcp', '40001/udp']);
  t.deepEqual(c.HostConfig?.PortBindings, {
    '40001/tcp': [{ HostPort: '40001' }],
    '40001/udp': [{ HostPort: '40001' }],
  });
  for (const mode of ['host', 'container:gluetun']) {
    const other = runtimeFor(mode).containerSpec(spec);
    t.is(
      other.HostConfig?.PortBindings,
      undefined,
      `${mode}: the engine's ports are already the namespace's`,
    );
    t.is(other.ExposedPorts, undefined);
  }
});

test('runtime - ace-sim engines get a Docker health check on their own HTTP port; real engines keep theirs', (t) => {
  const check = runtimeFor('acefleet-net').containerSpec(spec).Healthcheck;
  t.is(check?.Test?.[0], 'CMD');
  t.true(check?.Test?.join(' ').includes('http://127.0.0.1:19000/webui/api/service?method=get_version'));
  t.true((check?.Interval ?? 0) > 0 && (check?.Retries ?? 0) > 0);
  t.is(runtimeFor('acefleet-net', 'jopsis').containerSpec(spec).Healthcheck, undefined);
});
