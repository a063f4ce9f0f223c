import test from 'ava';
import { dockerAvailable } from '@acefleet/testkit';
import { acquireError, isolatedManager, listEngines } from '../helpers.ts';

const withDocker = (await dockerAvailable()) ? test : test.skip;

/** ace-sim refuses an unknown profile at start-up and exits 1: an engine image that crashes at once. */
const CRASHING = { ENGINE_ENV: 'ACE_SIM_PROFILE=no-such-profile', ENGINE_READY_TIMEOUT_MS: '60000' };

for (const runtime of ['docker', 'process'] as const) {
  (runtime === 'docker' ? withDocker : test)(
    `provisioner (${runtime}) - an engine that exits before it answers fails its start at once, naming the exit code`,
    async (t) => {
      t.timeout(90_000);
      const m = await isolatedManager(t, { ...CRASHING, ENGINE_RUNTIME: runtime });
      const started = performance.now();
      const err = await acquireError(m.client, 1);
      const ms = performance.now() - started;
      t.log(`acquire failed after ${ms.toFixed(0)} ms: ${err.code} ${err.message}`);
      t.regex(err.message, /exited with code [1-9]|is gone/);
      // The ready timeout is 60 s: the failure comes from the container's exit, seconds after it.
      t.true(ms < 20_000, `failed after ${ms.toFixed(0)} ms`);
      t.deepEqual(await listEngines(m.client, m.hostId), [], 'the failed engine left no record');
    },
  );
}
