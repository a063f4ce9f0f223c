import { randomBytes } from 'node:crypto';
import type { Static, TSchema } from '@sinclair/typebox';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  AcefleetError,
  AcquireReply,
  hostSubject,
  inboxPrefixOf,
  ListReply,
  NatsUsers,
  StatusReply,
  Subjects,
  proxyCallSubject,
} from '@acefleet/contracts';
import { connect } from '@nats-io/transport-node';
import {
  connectNats,
  createLogger,
  ensureEventsStream,
  loadConfig,
  natsAuthOptions,
  natsServers,
  requestJson,
} from '@acefleet/platform';
import { portBlock, removeContainersWithLabels, startNatsServer, type NatsServer } from '@acefleet/testkit';
import Docker from 'dockerode';
import { buildEngineManager, type EngineManager } from '../src/app.ts';
import { engineEnvOf, ManagerConfig } from '../src/config.ts';
import { limitsOf } from '../src/runtime/confinement.ts';
import { DockerRuntime } from '../src/runtime/docker-runtime.ts';
import { presets, type PresetName } from '../src/runtime/presets.ts';
import type { EngineRuntime } from '../src/runtime/runtime.ts';

/** A nats-server or a cluster of them (startNatsServer, startNatsCluster). */
type NatsAccess = Pick<NatsServer, 'env' | 'connect'>;

export interface ManagerUnderTest {
  manager: EngineManager;
  hostId: string;
  /** A client connection with the operator's rights (the tests call every endpoint). */
  client: NatsConnection;
  close(): Promise<void>;
}

/** Settings every manager test starts from: Docker, host network on loopback, quick loops, no spares. */
export function testEnv(nats: NatsAccess, hostId: string): Record<string, string> {
  const ports = portBlock(40);
  return {
    ...nats.env(NatsUsers.engineManager),
    HOST_ID: hostId,
    FLEET_ID: hostId,
    INSTANCE_ID: `${hostId}-manager`,
    ENGINE_RUNTIME: 'docker',
    HTTP_PORT_RANGE_START: String(ports.start),
    HTTP_PORT_RANGE_END: String(ports.end),
    P2P_PORT_RANGE_START: String(ports.p2pStart),
    MIN_REPLICAS: '0',
    MIN_FREE_REPLICAS: '0',
    MAINTENANCE_INTERVAL_MS: '200',
    PROVISION_CONCURRENCY: '5',
    PROVISION_BURST: '10',
    PROVISION_RATE_PER_MINUTE: '600',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
  };
}

/** A Docker runtime on host `h1`, fleet `f1`, with the default limits plus `env`; for checking specs. */
export function dockerRuntimeFor(
  networkMode: string,
  preset: PresetName = 'ace-sim',
  env: Record<string, string> = {},
): DockerRuntime {
  const config = loadConfig(ManagerConfig, env);
  return new DockerRuntime({
    docker: new Docker(),
    presetName: preset,
    preset: presets[preset],
    image: config.engineImage || (presets[preset].image ?? ''),
    hostId: 'h1',
    fleetId: 'f1',
    limits: limitsOf(config),
    networkMode,
    engineHttpBind: config.engineHttpBind,
    engineHost: 'gluetun',
    engineEnv: engineEnvOf({ ...config, enginePreset: preset }),
  });
}

export function newHostId(what: string): string {
  return `test-${what}-${randomBytes(3).toString('hex')}`;
}

/**
 * The reply inbox of a manager that `startManager(…, { traced: true })` started: its host id follows the
 * engine-manager user's own prefix, so every write it makes to a bucket (a JetStream publish, which is a
 * request) names the host that made it. Undefined for another reply subject.
 */
export function writerHostOf(reply: string | undefined): string | undefined {
  const [prefix, hostId] = (reply ?? '').split('.');
  return prefix === inboxPrefixOf(NatsUsers.engineManager) ? hostId : undefined;
}

/**
 * An engine manager in this process, on its own host id; close() removes the containers it made. `runtime`:
 * an in-memory one for pure-logic tests (then no Docker is touched), else the one ENGINE_RUNTIME names.
 * `traced`: its replies come to an inbox naming its host (writerHostOf).
 */
export async function startManager(
  nats: NatsAccess,
  env: Record<string, string> = {},
  hostId = newHostId('em'),
  runtime?: EngineRuntime,
  { traced = false } = {},
): Promise<ManagerUnderTest> {
  const config = loadConfig(ManagerConfig, { ...testEnv(nats, hostId), ...env });
  const log = createLogger('engine-manager-test', config.logLevel);
  const auth = { user: config.natsUser, password: config.natsPassword };
  const nc = traced
    ? await connect({
        servers: natsServers(config.natsUrl),
        name: `engine-manager-test-${hostId}`,
        ...natsAuthOptions(auth),
        inboxPrefix: `${inboxPrefixOf(NatsUsers.engineManager)}.${hostId}`,
      })
    : await connectNats(config.natsUrl, 'engine-manager-test', log, auth);
  await ensureEventsStream(nc);
  const manager = await buildEngineManager(config, nc, log, undefined, runtime);
  await manager.serve('http://127.0.0.1:0');
  const client = await nats.connect();
  return {
    manager,
    hostId,
    client,
    async close() {
      await client.close();
      await manager.close();
      await nc.close();
      if (!runtime) await removeContainersWithLabels([`io.acefleet.host=${hostId}`]);
    },
  };
}

/** A nats-server of a test's own plus one manager on it; both go away in the test's teardown. */
export async function isolatedManager(
  t: { teardown(fn: () => Promise<void>): void },
  env: Record<string, string> = {},
): Promise<ManagerUnderTest & { nats: NatsServer }> {
  const nats = await startNatsServer();
  const m = await startManager(nats, env).catch(async (err: unknown) => {
    await nats.destroy();
    throw err;
  });
  t.teardown(async () => {
    await m.close();
    await nats.destroy();
  });
  return { ...m, nats };
}

export function call<T extends TSchema>(
  nc: NatsConnection,
  subject: string,
  payload: unknown,
  reply: T,
  timeoutMs = 30_000,
): Promise<Static<T>> {
  return requestJson(nc, subject, payload, reply, timeoutMs);
}

export function contentOf(n: number): { kind: 'id'; value: string } {
  return { kind: 'id', value: n.toString(16).padStart(40, '0') };
}

export function acquire(
  nc: NatsConnection,
  n: number,
  proxyId = 'proxy-1',
  timeoutMs?: number,
): Promise<AcquireReply> {
  return call(
    nc,
    proxyCallSubject('acquire', proxyId),
    { content: contentOf(n), proxyId },
    AcquireReply,
    timeoutMs,
  );
}

/** The acquire's AcefleetError (the test fails if it succeeded). */
export async function acquireError(nc: NatsConnection, n: number): Promise<AcefleetError> {
  const result = await acquire(nc, n).then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(result instanceof AcefleetError)) throw new Error(`expected an AcefleetError, got ${String(result)}`);
  return result;
}

export async function listEngines(nc: NatsConnection, hostId?: string): Promise<ListReply['engines']> {
  const { engines } = await call(nc, Subjects.engineList, {}, ListReply);
  return hostId ? engines.filter((e) => e.hostId === hostId) : engines;
}

export function status(nc: NatsConnection, hostId: string): Promise<StatusReply> {
  return call(nc, hostSubject(hostId, 'status'), {}, StatusReply);
}
