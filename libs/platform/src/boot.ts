import { randomUUID } from 'node:crypto';
import type { Static, TObject } from '@sinclair/typebox';
import type { NatsConnection } from '@nats-io/nats-core';
import { loadConfigOrExit, orExitOnConfigError } from './config.ts';
import { mapLegacyEnv, type LegacyRule } from './legacy-env.ts';
import { createLogger, type Logger } from './logger.ts';
import { connectNats, ensureEventsStream } from './nats.ts';

/** The fields of CommonConfig that booting reads; every service schema spreads CommonConfig. */
interface Common {
  instanceId: string;
  natsUrl: string;
  natsUser: string;
  natsPassword: string;
  logLevel: string;
}

export interface Booted<T extends TObject> {
  /** The service's configuration, with `instanceId` filled in (random when not configured). */
  config: Readonly<Static<T>> & { instanceId: string };
  log: Logger;
  nc: NatsConnection;
}

/**
 * The start every service shares: read the config once (exit 2 with the problems if it is bad), create the
 * root logger, connect to NATS and make sure the events stream exists. `legacy` reads the variables of the
 * project this service replaces (Acexy, acestream-orchestrator); each one read is logged, never its value.
 */
export async function bootService<T extends TObject>(
  schema: T,
  name: string,
  env: NodeJS.ProcessEnv,
  legacy: readonly LegacyRule[] = [],
): Promise<Booted<T>> {
  const mapped = orExitOnConfigError(() => mapLegacyEnv(env, legacy));
  const loaded = loadConfigOrExit(schema, mapped.env) as Readonly<Static<T>> & Common;
  const config = { ...loaded, instanceId: loaded.instanceId || randomUUID() };
  const log = createLogger(name, config.logLevel);
  for (const note of mapped.notes) log.info(note);
  const nc = await connectNats(config.natsUrl, name, log, {
    user: config.natsUser,
    password: config.natsPassword,
  });
  await ensureEventsStream(nc);
  return { config, log, nc };
}
