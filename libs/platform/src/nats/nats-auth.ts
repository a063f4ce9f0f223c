import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { natsPermissionsOf, natsUsers, type NatsUser, type SubjectRules } from '@acefleet/contracts';
import { natsClusterConfigLines, type NatsClusterOptions } from './nats-route.ts';

/** One password per user of a deployment (natsUsersFor: the services, each proxy, the operator). */
export type NatsPasswords = Partial<Record<NatsUser, string>>;

/** The users a password table has, in the order natsUsersFor gives them. */
function usersOf(passwords: NatsPasswords): NatsUser[] {
  return Object.keys(passwords) as NatsUser[];
}

/**
 * The variable that carries `user`'s password into nats-server (the generated config names it, so the file
 * itself never holds a secret) and into compose: `edge-proxy` → `NATS_PASSWORD_EDGE_PROXY`.
 */
export function natsPasswordEnv(user: NatsUser): string {
  return `NATS_PASSWORD_${user.toUpperCase().replace(/-/g, '_')}`;
}

/** Environment for nats-server holding every user's password under natsPasswordEnv. */
export function natsPasswordsEnv(passwords: NatsPasswords): Record<string, string> {
  return Object.fromEntries(usersOf(passwords).map((u) => [natsPasswordEnv(u), passwords[u] ?? '']));
}

export interface NatsServerConfigOptions {
  /** `host:port` to listen on; omitted: nats-server's default (0.0.0.0:4222). */
  listen?: string;
  storeDir: string;
  /** HTTP monitoring port; omitted: none. */
  monitorPort?: number;
  /** Make it a node of a cluster; omitted: a single server. */
  cluster?: NatsClusterOptions;
  /** Its users (natsUsersFor); omitted: the services, one proxy and the operator. */
  users?: readonly NatsUser[];
}

function rules(r: SubjectRules): string {
  const list = (xs: string[]): string => `[${xs.map((x) => JSON.stringify(x)).join(', ')}]`;
  return `{ allow: ${list(r.allow)}${r.deny ? `, deny: ${list(r.deny)}` : ''} }`;
}

/**
 * nats-server configuration: JetStream on, and one user per acefleet service with the permissions of
 * natsPermissionsOf. Anonymous clients are refused. Passwords come from the environment (natsPasswordEnv).
 */
export function natsServerConfig(opts: NatsServerConfigOptions): string {
  const users = (opts.users ?? natsUsers).map((user) => {
    const p = natsPermissionsOf(user);
    return [
      `    {`,
      `      user: ${JSON.stringify(user)}`,
      `      password: $${natsPasswordEnv(user)}`,
      `      permissions: {`,
      `        publish: ${rules(p.publish)}`,
      `        subscribe: ${rules(p.subscribe)}`,
      ...(p.allowResponses ? [`        allow_responses: true`] : []),
      `      }`,
      `    }`,
    ].join('\n');
  });
  return [
    '# Generated from libs/contracts/src/permissions.ts by libs/platform natsServerConfig: do not edit.',
    ...(opts.listen ? [`listen: ${JSON.stringify(opts.listen)}`] : []),
    ...(opts.monitorPort ? [`http_port: ${opts.monitorPort}`] : []),
    ...(opts.cluster ? natsClusterConfigLines(opts.cluster) : []),
    `jetstream: { store_dir: ${JSON.stringify(opts.storeDir)} }`,
    'authorization: {',
    '  users: [',
    users.join('\n'),
    '  ]',
    '}',
    '',
  ].join('\n');
}

/** The config deploy/compose.yml mounts into nats: the store in the nats-data volume, monitoring on 8222. */
export function composeNatsServerConfig(): string {
  return natsServerConfig({ storeDir: '/data', monitorPort: 8222 });
}

/**
 * A fresh password. Hex behind a letter: nats-server parses an environment variable's value as a config
 * value, and this form always reads back as the same string.
 */
export function newNatsPassword(): string {
  return `p${randomBytes(24).toString('hex')}`;
}

/** A fresh password for each of `users`. */
export function newNatsPasswords(users: readonly NatsUser[] = natsUsers): NatsPasswords {
  return Object.fromEntries(users.map((u) => [u, newNatsPassword()]));
}

/**
 * Every user's password, kept in `<stateDir>/nats-credentials.json` (directory 0700, file 0600): made at
 * the first call, read back afterwards, new users filled in.
 */
export function loadOrCreateNatsPasswords(
  stateDir: string,
  users: readonly NatsUser[] = natsUsers,
): NatsPasswords {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  chmodSync(stateDir, 0o700);
  const file = path.join(stateDir, 'nats-credentials.json');
  let stored: Partial<Record<string, string>> = {};
  let text: string | undefined;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (text !== undefined) {
    try {
      stored = JSON.parse(text) as Partial<Record<string, string>>;
    } catch {
      // Not the parser's message: it quotes the file, which holds the passwords.
      throw new Error(`${file} is not valid JSON: remove it to make new NATS passwords`);
    }
  }
  const passwords: NatsPasswords = Object.fromEntries(users.map((u) => [u, stored[u] ?? newNatsPassword()]));
  if (users.some((u) => stored[u] === undefined)) {
    // Users the file has beyond `users` (more proxies at an earlier start) keep their passwords.
    writeFileSync(file, `${JSON.stringify({ ...stored, ...passwords }, null, 2)}\n`, { mode: 0o600 });
  }
  chmodSync(file, 0o600);
  return passwords;
}
