import net from 'node:net';
import { Type } from '@sinclair/typebox';
import { ConfigError } from '@acefleet/platform';
import { isValidDeviceId } from './hdhomerun-device.ts';

/**
 * What players, playlists and media servers get (channels, guides, HDHomeRun, tokens): the proxy's settings
 * for them, spread into ProxyConfig.
 */
export const CatalogConfig = {
  publicUrl: Type.String({
    default: '',
    description:
      "the proxy's address as players reach it (`https://tv.example.com`), written into playlists, guides and HDHomeRun answers; empty: the request's own Host",
  }),
  playerAuth: Type.Union([Type.Literal('auto'), Type.Literal('required'), Type.Literal('off')], {
    default: 'auto',
    description:
      'player routes (streams, playlist, guide, HDHomeRun) need a player token (`?token=` or `Authorization: Bearer`): `required`, `off`, or `auto`: required unless HTTP_HOST is loopback',
  }),
  trustedProxies: Type.String({
    default: '',
    description:
      'comma-separated addresses or CIDRs of reverse proxies whose `X-Forwarded-For` (and `-Proto`, `-Host`) names the client, for limits, sessions and playlist URLs',
  }),
  revokeEndsPlayback: Type.Boolean({
    default: true,
    description:
      'revoking a player token also cuts off the players using it now (else only new requests are refused)',
  }),
  playlistSources: Type.String({
    default: '',
    description:
      'comma-separated M3U files or URLs imported into the channels at start and every PLAYLIST_REFRESH_MS',
  }),
  playlistRefreshMs: Type.Integer({
    default: 3_600_000,
    minimum: 1000,
    description: 'how often PLAYLIST_SOURCES are read again',
  }),
  playlistMaxBytes: Type.Integer({
    default: 16 * 1024 * 1024,
    minimum: 1024,
    description: 'a playlist (source or upload) larger than this is refused',
  }),
  guideMaxBytes: Type.Integer({
    default: 64 * 1024 * 1024,
    minimum: 1024,
    description: 'an XMLTV guide larger than this (unpacked) is left out of /epg.xml',
  }),
  sourceTimeoutMs: Type.Integer({
    default: 15_000,
    minimum: 100,
    description: 'a playlist or guide source must be read within this',
  }),
  guideCacheMs: Type.Integer({
    default: 3_600_000,
    minimum: 1000,
    description: '/epg.xml serves the guides it read for this long before reading them again',
  }),
  hdhrFriendlyName: Type.String({
    default: 'acefleet',
    maxLength: 64,
    description: 'the HDHomeRun tuner name media servers show',
  }),
  hdhrDeviceId: Type.String({
    default: '',
    pattern: '^([0-9A-Fa-f]{8})?$',
    description:
      'the HDHomeRun DeviceID (8 hex digits, with a valid check digit); empty: one derived from the channels bucket, the same for every proxy of the fleet',
  }),
  hdhrTunerCount: Type.Integer({
    default: 0,
    minimum: 0,
    maximum: 1000,
    description: 'HDHomeRun TunerCount; 0: streams this proxy plays plus the free room of ready engines',
  }),
};

/** A comma-separated list, blanks dropped. */
export function listOf(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function isAddressOrCidr(entry: string): boolean {
  const [address, bits, extra] = entry.split('/');
  if (extra !== undefined || !address || !net.isIP(address)) return false;
  if (bits === undefined) return true;
  const max = net.isIPv4(address) ? 32 : 128;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= max;
}

/** What the schema cannot say about these settings; throws a ConfigError naming the variable. */
export function checkCatalogConfig(config: {
  publicUrl: string;
  trustedProxies: string;
  hdhrDeviceId: string;
}): void {
  const problems: string[] = [];
  if (config.publicUrl) {
    let url: URL | undefined;
    try {
      url = new URL(config.publicUrl);
    } catch {
      url = undefined;
    }
    if (!url || !/^https?:$/.test(url.protocol) || url.search || url.hash || url.username) {
      problems.push(
        `PUBLIC_URL (${JSON.stringify(config.publicUrl)}): an http(s) URL without query or credentials`,
      );
    }
  }
  const bad = listOf(config.trustedProxies).filter((e) => !isAddressOrCidr(e));
  if (bad.length > 0) {
    problems.push(`TRUSTED_PROXIES: not an address or CIDR: ${bad.map((b) => JSON.stringify(b)).join(', ')}`);
  }
  if (config.hdhrDeviceId && !isValidDeviceId(config.hdhrDeviceId)) {
    problems.push(
      `HDHR_DEVICE_ID (${JSON.stringify(config.hdhrDeviceId)}): its last hex digit is not the check digit HDHomeRun clients verify`,
    );
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
}
