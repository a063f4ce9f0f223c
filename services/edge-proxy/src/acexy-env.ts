import { legacyValues, LegacyValueError, readLegacy, renamed, type LegacyRule } from '@acefleet/platform';

/** Go's `host:port`, `:port` or `[v6]:port`; an empty host listens everywhere, as Go's `:8080` does. */
function listenAddress(value: string): Record<string, string> {
  const match = /^(\[[^\]]*\]|[^:[\]]*):(\d{1,5})$/.exec(value.trim());
  const port = Number(match?.[2]);
  if (!match || port > 65535) {
    throw new LegacyValueError('ACEXY_LISTEN_ADDR', value, 'host:port or :port, such as :8080');
  }
  const host = match[1]!.replace(/^\[|\]$/g, '');
  return { HTTP_HOST: host || '0.0.0.0', HTTP_PORT: String(port) };
}

/** Acexy's one engine (`ACEXY_SCHEME://ACEXY_HOST:ACEXY_PORT`, defaults http, localhost, 6878) as a static engine. */
function staticEngine(values: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const scheme = (values.ACEXY_SCHEME ?? 'http').toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') {
    throw new LegacyValueError('ACEXY_SCHEME', values.ACEXY_SCHEME ?? '', 'http or https');
  }
  const port = readLegacy('ACEXY_PORT', values.ACEXY_PORT ?? '6878', legacyValues.count);
  const host = values.ACEXY_HOST ?? 'localhost';
  const hostPart = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  if (Number(port) < 1 || Number(port) > 65535 || !URL.canParse(`${scheme}://${hostPart}:${port}`)) {
    throw new LegacyValueError('ACEXY_HOST', host, `a host name or address (with ACEXY_PORT ${port})`);
  }
  return { STATIC_ENGINES: `${scheme}://${hostPart}:${port}` };
}

/**
 * The stall detector must fire before Acexy's empty timeout does: its default 4 s, or half a shorter timeout.
 * An unreadable timeout sets nothing here (the EMPTY_TIMEOUT_MS rule reports it).
 */
function stallBelow(emptyTimeout: string): Record<string, string> {
  const emptyMs = Number(legacyValues.goDurationMs.read(emptyTimeout));
  return Number.isFinite(emptyMs)
    ? { STALL_FAILOVER_MS: String(Math.min(4_000, Math.floor(emptyMs / 2))) }
    : {};
}

/**
 * Acexy's environment, read by the edge proxy so an Acexy compose file works unchanged (docs/migrating.md).
 * Timeouts: Acexy's empty timeout is the silence after which a stream counts as stalled (EMPTY_TIMEOUT_MS);
 * its no-response timeout is the wait for the engine's playback response headers (FIRST_BYTE_TIMEOUT_MS).
 */
export const acexyEnv: readonly LegacyRule[] = [
  {
    from: ['ACEXY_LISTEN_ADDR'],
    to: ['HTTP_HOST', 'HTTP_PORT'],
    convert: (v) => listenAddress(v.ACEXY_LISTEN_ADDR!),
  },
  { from: ['ACEXY_SCHEME', 'ACEXY_HOST', 'ACEXY_PORT'], to: ['STATIC_ENGINES'], convert: staticEngine },
  renamed('ACEXY_EMPTY_TIMEOUT', 'EMPTY_TIMEOUT_MS', legacyValues.goDurationMs),
  {
    from: ['ACEXY_EMPTY_TIMEOUT'],
    to: ['STALL_FAILOVER_MS'],
    convert: (v) => stallBelow(v.ACEXY_EMPTY_TIMEOUT!),
  },
  renamed('ACEXY_NO_RESPONSE_TIMEOUT', 'FIRST_BYTE_TIMEOUT_MS', legacyValues.goDurationMs),
  renamed('ACEXY_M3U8_STREAM_TIMEOUT', 'HLS_IDLE_MS', legacyValues.goDurationMs),
  renamed('ACEXY_BUFFER_SIZE', 'RING_BYTES', legacyValues.humanBytes),
  renamed('ACEXY_LOG_LEVEL', 'LOG_LEVEL', {
    expected: 'debug, info, warn or error',
    read: (v) => (/^(debug|info|warn|error)$/i.test(v) ? v.toLowerCase() : undefined),
  }),
];
