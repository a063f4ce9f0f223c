/**
 * `npm run compose:up`: the compose stack on the local Docker daemon, with or without a registry. Makes the
 * NATS passwords when missing, stages and builds the services image, builds the NATS image and (for
 * ENGINE_PRESET=ace-sim) the engine image, starts everything and waits until every service is healthy.
 * A base image (NODE_IMAGE, NATS_IMAGE; defaults in deploy/compose.yml) that is neither given nor already on
 * the daemon is replaced by one made from this host's binaries (scripts/build-base-images.sh): nothing is
 * pulled unless NODE_IMAGE or NATS_IMAGE is set. Once up, the operator's NATS URL for the CLI goes to
 * `.run/compose-<project>.operator.nats-url` (scripts/lib/compose-operator.ts).
 */
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { isLoopbackHost } from '@acefleet/platform';
import { compose, composeEnv, composeOutput, docker, resolvedSetting, root } from './lib/compose.ts';
import { writeOperatorFile } from './lib/compose-operator.ts';
import { stageServicesImage } from './lib/services-image.ts';

const healthyTimeoutMs = 180_000;
const env = composeEnv();
// The proxy cannot tell from inside its container that its port is published on loopback only.
if (!env.PLAYER_AUTH && isLoopbackHost(env.PROXY_BIND ?? '0.0.0.0')) env.PLAYER_AUTH = 'off';
const bash = (script: string): void => void execFileSync('bash', [script], { cwd: root, stdio: 'inherit' });

execFileSync('node', ['--import', 'tsx', 'scripts/compose-secrets.ts'], { cwd: root, stdio: 'inherit' });
stageServicesImage(root);

const config = composeOutput(['--profile', 'images', 'config'], env);
const bases = [
  { arg: 'NODE_IMAGE', local: 'acefleet/node-base:local' },
  { arg: 'NATS_IMAGE', local: 'acefleet/nats-base:local' },
] as const;
const missing = bases.filter(
  ({ arg }) => !env[arg] && !docker(['image', 'inspect', resolvedSetting(config, arg)], true),
);
if (missing.length > 0) {
  console.log(
    `compose:up: ${missing.map((b) => resolvedSetting(config, b.arg)).join(', ')} not on this daemon: local base images`,
  );
  bash('scripts/build-base-images.sh');
  for (const { arg, local } of missing) env[arg] = local;
}

if (resolvedSetting(config, 'ENGINE_PRESET') === 'ace-sim' && !resolvedSetting(config, 'ENGINE_IMAGE')) {
  if (env.NODE_IMAGE === 'acefleet/node-base:local') bash('scripts/build-engine-image.sh');
  else compose(['--profile', 'images', 'build', 'ace-sim-image'], env);
}
compose(['build', 'nats', 'engine-manager'], env);
compose(['up', '-d', '--remove-orphans'], env);

/** Every container of the stack has a health check; all must say healthy. */
async function waitHealthy(): Promise<void> {
  const deadline = Date.now() + healthyTimeoutMs;
  for (;;) {
    const ids = composeOutput(['ps', '-q'], env).split('\n').filter(Boolean);
    const format = ['--format', '{{.Name}} {{.State.Health.Status}}'];
    const states =
      ids.length > 0 ? execFileSync('docker', ['inspect', ...format, ...ids], { encoding: 'utf8' }) : '';
    const waiting = states
      .split('\n')
      .filter(Boolean)
      .filter((s) => !s.endsWith(' healthy'));
    if (ids.length > 0 && waiting.length === 0) return;
    if (Date.now() > deadline)
      throw new Error(`compose:up: not healthy after ${healthyTimeoutMs / 1000} s: ${waiting.join(', ')}`);
    await sleep(1000);
  }
}
await waitHealthy();
compose(['ps'], env);
const operatorFile = writeOperatorFile(config, env);
console.log(`operator: NATS URL with the operator's password in ${operatorFile} (0600)`);
console.log(`  npx acefleet --creds ${operatorFile} status`);
