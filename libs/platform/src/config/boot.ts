import { randomUUID } from 'node:crypto';
import type { Static, TObject } from '@sinclair/typebox';
import { loadConfigOrExit, orExitOnConfigError } from './config.ts';
import { mapLegacyEnv, type LegacyRule } from './legacy-env.ts';
import { createLogger, type Logger } from '../logger.ts';
import { NatsLink } from '../nats/nats-link.ts';
import { ensureJetStream } from '../nats/jetstream.ts';
import { defaultJetStreamBounds, type JetStreamBounds } from '../nats/jetstream-bounds.ts';
import { connectNats, type NatsAuth } from '../nats/nats.ts';

/** The fields of CommonConfig that booting reads; every service schema spreads CommonConfig. */
interface Common extends JetStreamBounds {
  instanceId: string;
  natsUrl: string;
  natsUser: string;
  natsPassword: string;
  jsReplicas: number;
  logLevel: string;
  logRepeatWindowMs: number;
}

export interface Booted<T extends TObject> {
  /** The service's configuration, with `instanceId` filled in (random when not configured). */
  config: Readonly<Static<T>> & { instanceId: string };
  log: Logger;
  /** Not connected yet: register what needs NATS with onConnect, then start() it once HTTP listens. */
  link: NatsLink;
}

/**
 * The start every service shares: read the config once (exit 2 with the problems if it is bad), create the
 * root logger, report unhandled rejections as the bugs they are, and prepare the NATS link. Nothing here
 * waits for NATS. `legacy` reads the variables of the project this service replaces (Acexy,
 * acestream-orchestrator); each one read is logged, never its value.
 */
export function bootService<T extends TObject>(
  schema: T,
  name: string,
  env: NodeJS.ProcessEnv,
  legacy: readonly LegacyRule[] = [],
): Booted<T> {
  const mapped = orExitOnConfigError(() => mapLegacyEnv(env, legacy));
  const loaded = loadConfigOrExit(schema, mapped.env) as Readonly<Static<T>> & Common;
  const config = { ...loaded, instanceId: loaded.instanceId || randomUUID() };
  const log = createLogger(name, config.logLevel, config.logRepeatWindowMs);
  for (const note of mapped.notes) log.info(note);
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));
  const auth = { user: config.natsUser, password: config.natsPassword };
  return { config, log, link: createNatsLink(config.natsUrl, name, log, auth, config.jsReplicas, config) };
}

/**
 * A service's NATS link (not started), whose first step makes sure the events and samples streams and the
 * engines bucket exist, created with `jsReplicas` replicas and `bounds`.
 */
export function createNatsLink(
  natsUrl: string,
  name: string,
  log: Logger,
  auth: NatsAuth = { user: '', password: '' },
  jsReplicas = 1,
  bounds: JetStreamBounds = defaultJetStreamBounds,
): NatsLink {
  const link = new NatsLink(() => connectNats(natsUrl, name, log, auth), log);
  link.onConnect('jetstream', (nc) => ensureJetStream(nc, jsReplicas, bounds));
  return link;
}
