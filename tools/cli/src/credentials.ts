import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ExitCodes, CliError } from './errors.ts';

/** Where NATS is and who the CLI logs in as. The password never leaves this object except to connect. */
export interface NatsTarget {
  /** `host:port`, without credentials: safe to print. */
  server: string;
  user: string;
  password: string;
}

/** What `npm start` writes: the operator's NATS URL, password included (mode 0600). */
export const OPERATOR_FILE = path.join('.run', 'operator.nats-url');
const DEFAULT_SERVER = '127.0.0.1:4222';

interface TargetParts {
  server?: string;
  user?: string;
  password?: string;
}

function fail(message: string): never {
  throw new CliError(ExitCodes.unreachable, message);
}

/** `nats://user:password@host:port` → its parts; the message never quotes the URL (it may hold a password). */
function fromUrl(raw: string, where: string): TargetParts {
  let url: URL;
  try {
    url = new URL(raw.includes('://') ? raw : `nats://${raw}`);
  } catch {
    return fail(`${where} is not a NATS URL`);
  }
  if (!url.hostname) return fail(`${where} has no host`);
  const out: TargetParts = { server: `${url.hostname}:${url.port || '4222'}` };
  if (url.username) out.user = decodeURIComponent(url.username);
  if (url.password) out.password = decodeURIComponent(url.password);
  return out;
}

/**
 * A credentials file holds either one NATS URL with user and password (like .run/operator.nats-url), or
 * `NATS_USER=…` and `NATS_PASSWORD=…` lines with an optional `NATS_URL=…` (the variables services read).
 * Blank lines and `#` comments are ignored.
 */
export function parseCredentials(text: string, where: string): TargetParts {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  if (lines.length === 1 && lines[0]!.includes('://')) return fromUrl(lines[0]!, where);
  const out: TargetParts = {};
  for (const line of lines) {
    const eq = line.indexOf('=');
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (eq < 0) fail(`${where}: expected KEY=VALUE lines or one NATS URL`);
    else if (key === 'NATS_URL') Object.assign(out, fromUrl(value, `${where} NATS_URL`));
    else if (key === 'NATS_USER') out.user = value;
    else if (key === 'NATS_PASSWORD') out.password = value;
    else fail(`${where}: unknown key ${key}`);
  }
  return out;
}

function readCredentials(file: string): TargetParts {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    return fail(`cannot read credentials ${file} (${code})`);
  }
  return parseCredentials(text, file);
}

/** The operator file of the repository `cwd` is in: the nearest `.run/operator.nats-url` walking up. */
function findOperatorFile(cwd: string): string | undefined {
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    const file = path.join(dir, OPERATOR_FILE);
    if (existsSync(file)) return file;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/**
 * Who to be and where: `--nats` gives the server (and maybe user and password), `--creds` the user and
 * password (and maybe the server); with neither, the operator file that `npm start` wrote.
 */
export function resolveTarget(opts: { nats?: string; creds?: string; cwd: string }): NatsTarget {
  const fromFlag = opts.nats ? fromUrl(opts.nats, '--nats') : {};
  let fromFile: TargetParts = {};
  if (opts.creds) fromFile = readCredentials(opts.creds);
  else if (!opts.nats) {
    const found = findOperatorFile(opts.cwd);
    if (!found)
      fail(`no NATS credentials: run npm start (it writes ${OPERATOR_FILE}) or give --nats/--creds`);
    fromFile = readCredentials(found);
  }
  return {
    server: fromFlag.server ?? fromFile.server ?? DEFAULT_SERVER,
    user: fromFile.user ?? fromFlag.user ?? '',
    password: fromFile.password ?? fromFlag.password ?? '',
  };
}
