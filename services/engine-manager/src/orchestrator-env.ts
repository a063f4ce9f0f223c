import { legacyValues, LegacyValueError, readLegacy, renamed, type LegacyRule } from '@acefleet/platform';

/**
 * acestream-orchestrator's Gluetun settings: engines join the named container's network namespace, are
 * reached at its name, and its control server answers on GLUETUN_API_PORT (default 8000) there.
 */
function gluetun(values: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const name = values.GLUETUN_CONTAINER_NAME;
  if (name === undefined) {
    const port = values.GLUETUN_API_PORT ?? '';
    throw new LegacyValueError('GLUETUN_API_PORT', port, 'GLUETUN_CONTAINER_NAME to be set as well');
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) {
    throw new LegacyValueError('GLUETUN_CONTAINER_NAME', name, 'a container name');
  }
  const port = readLegacy('GLUETUN_API_PORT', values.GLUETUN_API_PORT ?? '8000', legacyValues.count);
  return {
    NETWORK_MODE: `container:${name}`,
    ENGINE_HOST: name,
    GLUETUN_CONTROL_URL: `http://${name}:${port}`,
  };
}

const variants: Record<string, string> = { 'krinkuto11-amd64': 'krinkuto11', 'jopsis-amd64': 'jopsis' };

/**
 * The environment of acestream-orchestrator (krinkuto11) and of Acexy's built-in orchestrator (ACESTREAM_*),
 * read by engine-manager so their compose files work unchanged (docs/migrating.md). MIN_REPLICAS,
 * MAX_REPLICAS, MIN_FREE_REPLICAS and API_KEY already have the same names. Earlier rules win over later ones
 * that set the same variable.
 */
export const orchestratorEnv: readonly LegacyRule[] = [
  {
    from: ['GLUETUN_CONTAINER_NAME', 'GLUETUN_API_PORT'],
    to: ['NETWORK_MODE', 'ENGINE_HOST', 'GLUETUN_CONTROL_URL'],
    convert: gluetun,
  },
  renamed('DOCKER_NETWORK', 'NETWORK_MODE', legacyValues.text),
  renamed('GLUETUN_HEALTH_CHECK_INTERVAL_S', 'GLUETUN_POLL_INTERVAL_MS', legacyValues.secondsMs),
  renamed('ENGINE_VARIANT', 'ENGINE_PRESET', {
    expected: `one of ${Object.keys(variants).join(', ')} (for ARM, set ENGINE_PRESET and ENGINE_IMAGE)`,
    read: (v) => variants[v],
  }),
  renamed('ACEXY_MAX_STREAMS_PER_ENGINE', 'MAX_STREAMS_PER_ENGINE', legacyValues.count),
  renamed('STARTUP_TIMEOUT_S', 'ENGINE_READY_TIMEOUT_MS', legacyValues.secondsMs),
  renamed('ENGINE_GRACE_PERIOD_S', 'IDLE_GRACE_MS', legacyValues.secondsMs),
  renamed('HEALTH_REPLACEMENT_COOLDOWN_S', 'UNHEALTHY_REPLACE_COOLDOWN_MS', legacyValues.secondsMs),
  renamed('CIRCUIT_BREAKER_FAILURE_THRESHOLD', 'BREAKER_FAILURE_THRESHOLD', legacyValues.count),
  renamed('CIRCUIT_BREAKER_RECOVERY_TIMEOUT_S', 'BREAKER_RECOVERY_MS', legacyValues.secondsMs),
  renamed('MAX_CONCURRENT_PROVISIONS', 'PROVISION_CONCURRENCY', legacyValues.count),
  renamed('ACESTREAM_MIN_REPLICAS', 'MIN_REPLICAS', legacyValues.count),
  renamed('ACESTREAM_MAX_REPLICAS', 'MAX_REPLICAS', legacyValues.count),
  renamed('ACESTREAM_STREAMS_PER_INSTANCE', 'MAX_STREAMS_PER_ENGINE', legacyValues.count),
  renamed('ACESTREAM_IDLE_TIMEOUT', 'IDLE_GRACE_MS', legacyValues.goDurationMs),
];
