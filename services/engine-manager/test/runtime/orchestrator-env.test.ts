import test from 'ava';
import { ConfigError } from '@acefleet/platform';
import { legacyConfigOf } from '@acefleet/testkit';
import { ManagerConfig } from '../../src/config.ts';
import { orchestratorEnv } from '../../src/orchestrator-env.ts';

const configOf = legacyConfigOf(ManagerConfig, orchestratorEnv);

test('orchestrator - an acestream-orchestrator .env configures engine-manager', (t) => {
  const config = configOf({
    MIN_REPLICAS: '2',
    MAX_REPLICAS: '6',
    API_KEY: 'k',
    GLUETUN_CONTAINER_NAME: 'gluetun',
    GLUETUN_API_PORT: '8001',
    GLUETUN_HEALTH_CHECK_INTERVAL_S: '5',
    ACEXY_MAX_STREAMS_PER_ENGINE: '3',
    STARTUP_TIMEOUT_S: '25',
    ENGINE_GRACE_PERIOD_S: '30',
    ENGINE_VARIANT: 'jopsis-amd64',
    DOCKER_NETWORK: 'aceserver',
  });
  t.like(config, {
    minReplicas: 2,
    maxReplicas: 6,
    apiKey: 'k',
    networkMode: 'container:gluetun',
    engineHost: 'gluetun',
    gluetunControlUrl: 'http://gluetun:8001',
    gluetunPollIntervalMs: 5000,
    maxStreamsPerEngine: 3,
    engineReadyTimeoutMs: 25_000,
    idleGraceMs: 30_000,
    enginePreset: 'jopsis',
  });
});

test("orchestrator - Acexy's built-in orchestrator settings configure engine-manager", (t) => {
  const config = configOf({
    ACESTREAM_MIN_REPLICAS: '1',
    ACESTREAM_MAX_REPLICAS: '5',
    ACESTREAM_STREAMS_PER_INSTANCE: '3',
    ACESTREAM_IDLE_TIMEOUT: '5m',
  });
  t.like(config, { minReplicas: 1, maxReplicas: 5, maxStreamsPerEngine: 3, idleGraceMs: 300_000 });
});

test('orchestrator - acefleet variables win, and the Gluetun port alone is refused', (t) => {
  t.is(configOf({ GLUETUN_CONTAINER_NAME: 'vpn', NETWORK_MODE: 'host' }).networkMode, 'host');
  const err = t.throws(() => configOf({ GLUETUN_API_PORT: '8001' }), { instanceOf: ConfigError });
  t.regex(err.message, /GLUETUN_API_PORT .*GLUETUN_CONTAINER_NAME/);
  t.throws(() => configOf({ ENGINE_VARIANT: 'jopsis-arm64' }), {
    message: /ENGINE_VARIANT \("jopsis-arm64"\)/,
  });
});
