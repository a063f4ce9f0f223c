import test from 'ava';
import { ConfigError, createLogger, loadConfig } from '@acefleet/platform';
import { startNatsServer } from '@acefleet/testkit';
import { buildEngineManager } from '../../src/app.ts';
import { ManagerConfig } from '../../src/config.ts';
import { PINNED_IMAGE, presetNames, presets } from '../../src/runtime/presets.ts';
import { dockerRuntimeFor } from '../helpers.ts';

const spec = { engineId: 'h1-abc', httpPort: 19000, p2pPort: 40001 };
const pinned = new RegExp(PINNED_IMAGE);

test('presets - every image is pinned to a tag other than latest, or left to ENGINE_IMAGE with a reason', (t) => {
  for (const name of presetNames) {
    const { image, imageNote } = presets[name];
    t.true(imageNote.length > 20, `${name} says why its image`);
    if (image === undefined) t.regex(imageNote, /ENGINE_IMAGE/, `${name} says what to set instead`);
    else t.regex(image, pinned, `${name}: ${image}`);
  }
});

test('config - ENGINE_IMAGE must name a tag other than latest, or a digest', (t) => {
  for (const image of ['busybox', 'busybox:latest', 'localhost:5000/engine', 'ghcr.io/a/b:latest']) {
    const err = t.throws(() => loadConfig(ManagerConfig, { ENGINE_IMAGE: image }), {
      instanceOf: ConfigError,
    });
    t.regex(err?.message ?? '', /ENGINE_IMAGE/, image);
  }
  for (const image of ['busybox:1.36', 'localhost:5000/engine:2.0', `ghcr.io/a/b@sha256:${'0'.repeat(64)}`]) {
    t.is(loadConfig(ManagerConfig, { ENGINE_IMAGE: image }).engineImage, image);
  }
});

test('config - a preset published only as latest refuses to start without ENGINE_IMAGE', async (t) => {
  const nats = await startNatsServer();
  const nc = await nats.connect();
  t.teardown(async () => {
    await nc.close();
    await nats.destroy();
  });
  const config = loadConfig(ManagerConfig, { NATS_URL: nats.url, ENGINE_PRESET: 'krinkuto11' });
  const err = await t.throwsAsync(buildEngineManager(config, nc, createLogger('test', 'silent')), {
    instanceOf: ConfigError,
  });
  t.regex(err?.message ?? '', /ENGINE_IMAGE.*@sha256/);
});

test('runtime - ace-sim runs as nobody on a read-only root, without capabilities, limited', (t) => {
  const c = dockerRuntimeFor('host').containerSpec(spec);
  const h = c.HostConfig!;
  t.is(c.User, '65534:65534');
  t.deepEqual(h.SecurityOpt, ['no-new-privileges:true']);
  t.deepEqual(h.CapDrop, ['ALL']);
  t.deepEqual(h.CapAdd, []);
  t.is(h.Memory, 1024 * 1024 * 1024);
  t.is(h.MemorySwap, h.Memory, 'no swap beyond the memory limit');
  t.is(h.NanoCpus, 1.5e9);
  t.is(h.PidsLimit, 512);
  t.deepEqual(h.LogConfig, { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } });
  t.true(h.ReadonlyRootfs);
  t.truthy(h.Tmpfs?.['/tmp']);
  t.is(c.Labels?.['io.acefleet.fleet'], 'f1');
});

test('runtime - real engines keep their image user and writable root, but are confined the same', (t) => {
  for (const preset of ['acestream-http-proxy', 'jopsis'] as const) {
    const c = dockerRuntimeFor('host', preset).containerSpec(spec);
    t.is(c.User, undefined, preset);
    t.falsy(c.HostConfig?.ReadonlyRootfs, preset);
    t.deepEqual(c.HostConfig?.CapDrop, ['ALL'], preset);
    t.deepEqual(c.HostConfig?.SecurityOpt, ['no-new-privileges:true'], preset);
  }
});

test('runtime - the CPU limit never exceeds the Docker host; zero limits are left out', (t) => {
  t.is(
    dockerRuntimeFor('host', 'ace-sim', { ENGINE_CPUS: '4' }).containerSpec(spec, 2).HostConfig?.NanoCpus,
    2e9,
  );
  const h = dockerRuntimeFor('host', 'ace-sim', {
    ENGINE_CPUS: '0',
    ENGINE_MEMORY_MB: '0',
    ENGINE_PIDS_LIMIT: '0',
  }).containerSpec(spec).HostConfig!;
  t.is(h.NanoCpus, undefined);
  t.is(h.Memory, undefined);
  t.is(h.PidsLimit, undefined);
});

test('runtime - changed limits make existing containers foreign-config', (t) => {
  t.not(
    dockerRuntimeFor('host').configHash,
    dockerRuntimeFor('host', 'ace-sim', { ENGINE_MEMORY_MB: '512' }).configHash,
  );
});
