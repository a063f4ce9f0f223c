import test from 'ava';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { ProvisionReply, Subjects, UpgradeReply } from '@acefleet/contracts';
import { dockerAvailable, repoRoot } from '@acefleet/testkit';
import { call, isolatedManager, listEngines } from './helpers.ts';

// Rolling upgrades against dockerd: real containers made from a real second tag of the ace-sim image, and a
// tag that does not exist. upgrade.test.ts pins the same logic without Docker.

const run = promisify(execFile);
const withDocker = (await dockerAvailable()) ? test.serial : test.serial.skip;

/** This checkout's ace-sim image by its content tag, and a second tag of it made for this test. */
async function twoTags(t: { teardown(fn: () => Promise<void>): void }): Promise<[string, string]> {
  const { stdout } = await run('bash', ['scripts/build-engine-image.sh'], { cwd: repoRoot });
  const hash = /\(([0-9a-f]{16})\)/.exec(stdout)?.[1];
  if (!hash) throw new Error(`no content tag in: ${stdout}`);
  const from = `acefleet/ace-sim:${hash}`;
  const to = `acefleet/ace-sim:upgrade-test-${randomBytes(3).toString('hex')}`;
  await run('docker', ['tag', from, to]);
  // Only the tag made here goes: the image keeps its other tags.
  t.teardown(async () => void (await run('docker', ['rmi', to]).catch(() => {})));
  return [from, to];
}

withDocker(
  'upgrade (docker) - every engine replaced from the new tag, containers made from it',
  async (t) => {
    t.timeout(180_000);
    const [from, to] = await twoTags(t);
    const m = await isolatedManager(t, { ENGINE_IMAGE: from, MAX_REPLICAS: '2' });
    const old = (await call(m.client, Subjects.engineProvision, { count: 2 }, ProvisionReply, 60_000))
      .engines;

    const reply = await call(m.client, Subjects.engineUpgrade, { image: to }, UpgradeReply, 150_000);
    t.is(reply.error, undefined);
    t.deepEqual(reply.replaced.map((r) => r.from).sort(), old.map((e) => e.id).sort());
    for (const r of reply.replaced) t.log(`${r.from} → ${r.to} ${r.tookMs} ms`);
    const engines = await listEngines(m.client, m.hostId);
    t.is(engines.length, 2);
    for (const e of engines) {
      t.like(e, { state: 'ready', image: to });
      const { stdout } = await run('docker', ['inspect', '--format', '{{.Config.Image}}', e.containerId!]);
      t.is(stdout.trim(), to, 'the container is made from the new tag');
    }
  },
);

withDocker(
  'upgrade (docker) - an image that does not exist stops at the first engine, old engines ready',
  async (t) => {
    t.timeout(180_000);
    const [from] = await twoTags(t);
    const m = await isolatedManager(t, { ENGINE_IMAGE: from, MAX_REPLICAS: '2' });
    const old = (await call(m.client, Subjects.engineProvision, { count: 2 }, ProvisionReply, 60_000))
      .engines;

    const missing = 'acefleet/does-not-exist:1';
    const reply = await call(m.client, Subjects.engineUpgrade, { image: missing }, UpgradeReply, 150_000);
    t.deepEqual(reply.replaced, []);
    t.regex(reply.error?.message ?? '', /acefleet\/does-not-exist:1 stopped at the first engine/);
    const engines = await listEngines(m.client, m.hostId);
    t.deepEqual(engines.map((e) => e.id).sort(), old.map((e) => e.id).sort());
    for (const e of engines) t.like(e, { state: 'ready', image: from });
    t.is(m.manager.runtime.image, from, 'the image in force is switched back');
  },
);
