import { Type, type Static, type TObject } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { JetStreamBoundsConfig } from '../nats/jetstream-bounds.ts';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** `healthIntervalMs` → `HEALTH_INTERVAL_MS`: the one rule that names every environment variable. */
export function envNameOf(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

/** Settings whose value a configuration error never quotes (API_KEY, NATS_PASSWORD, GLUETUN_API_KEY, …). */
const SECRET_KEY = /password|apikey|secret|token/i;

/**
 * Read a service's configuration once from the environment: each schema property comes from the variable
 * named by envNameOf, is converted to the property's type, defaulted, checked, and the result frozen.
 * Every bad value is reported with its variable name, all at once.
 */
export function loadConfig<T extends TObject>(schema: T, env: NodeJS.ProcessEnv): Readonly<Static<T>> {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(schema.properties)) {
    const value = env[envNameOf(key)];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const converted = Value.Convert(schema, Value.Default(schema, raw));
  const problems = [...Value.Errors(schema, converted)].map((e) => {
    const key = e.path.split('/')[1] ?? '';
    const given =
      raw[key] === undefined ? 'unset' : SECRET_KEY.test(key) ? 'value hidden' : JSON.stringify(raw[key]);
    return `${envNameOf(key)} (${given}): ${e.message}`;
  });
  if (problems.length > 0) {
    throw new ConfigError(`invalid configuration:\n  ${[...new Set(problems)].join('\n  ')}`);
  }
  return Object.freeze(converted as Static<T>);
}

/** Schema pieces every service shares. */
export const CommonConfig = {
  natsUrl: Type.String({
    default: 'nats://127.0.0.1:4222',
    description: 'NATS server URL(s), comma separated: every node of a NATS cluster',
  }),
  natsUser: Type.String({
    default: '',
    description: 'NATS user of this service (npm start and compose generate one per service)',
  }),
  natsPassword: Type.String({ default: '', description: 'password of NATS_USER; never logged' }),
  jsReplicas: Type.Integer({
    default: 1,
    minimum: 1,
    maximum: 3,
    // engine-manager applies it to existing streams too (applyJetStreamReplicas).
    description: 'replicas of the events stream and engines bucket: at most the NATS cluster size',
  }),
  ...JetStreamBoundsConfig,
  httpHost: Type.String({ default: '127.0.0.1', description: 'address the HTTP server binds' }),
  httpAllowedHosts: Type.String({
    default: '',
    description:
      'comma-separated host names this service is reached by: besides IP literals and `localhost`, the only `Host` values its routes (all but /health and the player routes) answer (DNS rebinding)',
  }),
  apiKey: Type.String({
    default: '',
    // RFC 6750 b64token: what may follow `Bearer ` (e.g. `openssl rand -base64 32`).
    pattern: '^([A-Za-z0-9._~+/-]+=*)?$',
    description:
      'Bearer key (letters, digits, `-._~+/`, then `=`s) for routes that change state, and for reading routes from anywhere but loopback; never logged',
  }),
  publicRead: Type.Boolean({
    default: false,
    description: 'let reading routes answer without the key to requests that do not come from loopback',
  }),
  corsOrigin: Type.String({
    default: '',
    description: 'allowed CORS origin for the HTTP API; empty: CORS off',
  }),
  logLevel: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info', description: 'least severe log level written' },
  ),
  logRepeatWindowMs: Type.Integer({
    default: 60_000,
    minimum: 100,
    maximum: 24 * 3600_000,
    description:
      'identical warnings within this window are written once, then one line with their count (`repeated`); errors are never folded',
  }),
  instanceId: Type.String({ default: '', description: 'identity of this process; random when empty' }),
  maxHeaderBytes: Type.Integer({
    default: 16 * 1024,
    minimum: 1024,
    description: "request line plus headers in bytes (node's maxHeaderSize); larger answers 431.",
  }),
  requestTimeoutMs: Type.Integer({
    default: 10_000,
    minimum: 100,
    description:
      'time a client has to send its whole request (headers); then 408. Responses are not limited by it.',
  }),
  keepAliveTimeoutMs: Type.Integer({
    default: 5_000,
    minimum: 100,
    description: 'an idle keep-alive connection is closed after this.',
  }),
  maxConnections: Type.Integer({
    default: 4096,
    minimum: 1,
    description:
      'open client connections at most; a request on a connection over the cap answers 503 and closes it.',
  }),
};

/** A configuration step of a process entry point: print a ConfigError's problems and exit 2, not a stack trace. */
export function orExitOnConfigError<R>(step: () => R): R {
  try {
    return step();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
}

/** loadConfig for a process entry point (exit 2 with the problems when the configuration is bad). */
export function loadConfigOrExit<T extends TObject>(schema: T, env: NodeJS.ProcessEnv): Readonly<Static<T>> {
  return orExitOnConfigError(() => loadConfig(schema, env));
}
