/**
 * `npm run compose:secrets`: the NATS passwords deploy/compose.yml needs, in deploy/.env (0600, git-ignored;
 * docker-compose reads it), made once and kept on later runs; and deploy/nats.conf regenerated from the
 * permission table. Prints where the secrets are, never the secrets.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { natsUsers } from '@acefleet/contracts';
import { composeNatsServerConfig, natsPasswordEnv, newNatsPassword } from '@acefleet/platform';

const deploy = path.resolve(import.meta.dirname, '../deploy');
const envFile = path.join(deploy, '.env');

const lines = existsSync(envFile) ? readFileSync(envFile, 'utf8').split('\n').filter(Boolean) : [];
const has = new Set(lines.map((l) => l.split('=')[0]));
const added = natsUsers.map(natsPasswordEnv).filter((name) => !has.has(name));
writeFileSync(envFile, [...lines, ...added.map((name) => `${name}=${newNatsPassword()}`), ''].join('\n'), {
  mode: 0o600,
});
chmodSync(envFile, 0o600);
writeFileSync(path.join(deploy, 'nats.conf'), composeNatsServerConfig());
console.log(
  `${added.length ? `made ${added.length} NATS password(s)` : 'NATS passwords kept'} in deploy/.env (0600); deploy/nats.conf written`,
);
