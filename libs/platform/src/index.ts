export {
  ConfigError,
  envNameOf,
  loadConfig,
  loadConfigOrExit,
  CommonConfig,
  orExitOnConfigError,
} from './config/config.ts';
export { type Logger, createLogger } from './logger.ts';
export { createRegistry } from './metrics.ts';
export { errorResponse, toAcefleetError, buildHttpApp, rejectOtherMethods } from './http/http.ts';
export { type AccessOptions, isLoopbackHost, secretsEqual, bearerOf, hostAllowed } from './http/http-auth.ts';
export {
  type NatsConnection,
  type KV,
  inboxPrefixFor,
  type NatsAuth,
  natsAuthOptions,
  connectNats,
  natsServers,
  ensureEventsStream,
  openEnginesKv,
  openLeadersKv,
  encodeJson,
  requestJson,
  decodeReply,
} from './nats/nats.ts';
export { ensureJetStream, applyJetStreamReplicas, applyJetStreamBounds } from './nats/jetstream.ts';
export {
  type JetStreamBounds,
  defaultJetStreamBounds,
  JetStreamBoundsConfig,
} from './nats/jetstream-bounds.ts';
export { addMicroService, addJsonEndpoint, AnnounceConfig, announcedAddress } from './nats/micro.ts';
export { subjectMatches, DeliveryGuard, subscribeEvents } from './nats/delivery-guard.ts';
export { onShutdown, processAlive } from './lifecycle.ts';
export {
  EngineAddressConfig,
  type EngineAddressRule,
  parseEngineAddresses,
  engineHostPort,
  engineAddressFilter,
} from './config/engine-addresses.ts';
export { EventPublisher } from './outbox/events.ts';
export { OutboxConfig } from './outbox/outbox-file.ts';
export { bootService, createNatsLink } from './config/boot.ts';
export {
  type NatsPasswords,
  natsPasswordEnv,
  natsPasswordsEnv,
  natsServerConfig,
  composeNatsServerConfig,
  newNatsPassword,
  newNatsPasswords,
  loadOrCreateNatsPasswords,
} from './nats/nats-auth.ts';
export { natsRoutesEnv } from './nats/nats-route.ts';
export { type Supervised, supervise } from './supervise.ts';
export { NatsLink } from './nats/nats-link.ts';
export { type HttpFront, listenFront } from './http/http-front.ts';
export { type LegacyRule, LegacyValueError, mapLegacyEnv, readLegacy, renamed } from './config/legacy-env.ts';
export { parseGoDuration, parseHumanBytes, legacyValues } from './config/legacy-values.ts';
export { kvSnapshot, KvMirror } from './nats/kv-mirror.ts';
export { KEPT_TOMBSTONES, Tombstones } from './nats/tombstones.ts';
