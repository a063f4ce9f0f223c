import type { FastifyInstance, FastifyRequest } from 'fastify';
import { playerOf } from '../players/player-gate.ts';
import type { Catalog } from './catalog.ts';
import { streamUrlOf } from './playlist-file.ts';
import { publicAddress, tokenParam } from './public-address.ts';

export interface HdhomerunOptions {
  friendlyName: string;
  /** HDHR_DEVICE_ID, or '' for the fleet's own (Catalog.hdhomerunDeviceId). */
  deviceId: string;
  /** HDHR_TUNER_COUNT, or 0: tunerRoom() says. */
  tunerCount: number;
  tunerRoom: () => number;
  publicUrl: string;
}

/**
 * Not an HDTC model on purpose: Jellyfin treats models named HDTC-* as transcoding tuners and appends
 * `?transcode=<profile>` to lineup URLs, which already have a query here.
 */
const MODEL = { ModelNumber: 'HDHR5-4US', FirmwareName: 'hdhomerun5_atsc', FirmwareVersion: '20240101' };

const PATHS = [
  '/discover.json',
  '/lineup.json',
  '/lineup_status.json',
  '/lineup.post',
  '/device.xml',
] as const;

/** The URL prefixes the emulated tuner answers under: the root (as a real HDHomeRun), and `/hdhr/<token>`. */
export const HDHOMERUN_ROUTES = ['', '/hdhr/:token'].flatMap((prefix) => PATHS.map((p) => `${prefix}${p}`));

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * HDHomeRun tuner emulation, so Plex, Jellyfin, Emby and Channels DVR add acefleet as a network tuner. The
 * requests followed are those of Jellyfin's HdHomerunHost (GET `<url>/discover.json`, then its LineupURL,
 * then each lineup URL; its `URL` and `GuideNumber` fields) and Plex's manual tuner set-up (discover.json,
 * lineup_status.json, lineup.json, POST lineup.post?scan=start, device.xml); see docs/players.md. A media
 * server that cannot send a token uses the device address `<proxy>/hdhr/<token>`: every URL in the answers
 * then carries the token.
 */
export function hdhomerunRoutes(app: FastifyInstance, catalog: Catalog, opts: HdhomerunOptions): void {
  /** Where the device's own URLs start: the proxy, plus `/hdhr/<token>` for a player that came with one. */
  const deviceBase = (req: FastifyRequest): string => {
    const token = playerOf(req).presented;
    return `${publicAddress(req, opts.publicUrl)}${token ? `/hdhr/${encodeURIComponent(token)}` : ''}`;
  };
  const deviceId = (): string => opts.deviceId.toUpperCase() || catalog.hdhomerunDeviceId();
  const tuners = (): number => opts.tunerCount || Math.max(1, opts.tunerRoom());

  for (const prefix of ['', '/hdhr/:token']) {
    app.get(`${prefix}/discover.json`, { schema: { summary: 'HDHomeRun: the device' } }, async (req) => {
      const base = deviceBase(req);
      return {
        FriendlyName: opts.friendlyName,
        Manufacturer: 'Silicondust',
        ...MODEL,
        DeviceID: deviceId(),
        DeviceAuth: 'acefleet',
        BaseURL: base,
        LineupURL: `${base}/lineup.json`,
        TunerCount: tuners(),
      };
    });
    app.get(`${prefix}/lineup.json`, { schema: { summary: 'HDHomeRun: the channels' } }, async (req) => {
      const base = publicAddress(req, opts.publicUrl);
      const token = tokenParam(req, '&');
      return catalog
        .channels()
        .channels()
        .map((c) => ({
          GuideNumber: String(c.number),
          GuideName: c.name,
          URL: streamUrlOf(c, { base, format: 'ts', token }),
          HD: 1,
        }));
    });
    app.get(
      `${prefix}/lineup_status.json`,
      { schema: { summary: 'HDHomeRun: channel scan state' } },
      async () => ({
        ScanInProgress: 0,
        ScanPossible: 1,
        Source: 'Cable',
        SourceList: ['Cable'],
      }),
    );
    // Plex starts a channel scan this way; the lineup is always complete, so there is nothing to scan.
    app.post(
      `${prefix}/lineup.post`,
      { schema: { summary: 'HDHomeRun: start a channel scan (nothing to do)' } },
      async (_req, reply) => reply.code(200).send(''),
    );
    app.get(
      `${prefix}/device.xml`,
      { schema: { summary: 'HDHomeRun: UPnP device description' } },
      async (req, reply) => {
        const id = deviceId();
        const xml = [
          '<?xml version="1.0" encoding="UTF-8"?>',
          '<root xmlns="urn:schemas-upnp-org:device-1-0">',
          '<specVersion><major>1</major><minor>0</minor></specVersion>',
          `<URLBase>${escapeXml(deviceBase(req))}</URLBase>`,
          '<device>',
          '<deviceType>urn:schemas-upnp-org:device:MediaServer:1</deviceType>',
          `<friendlyName>${escapeXml(opts.friendlyName)}</friendlyName>`,
          '<manufacturer>Silicondust</manufacturer>',
          `<modelName>${MODEL.ModelNumber}</modelName>`,
          `<modelNumber>${MODEL.ModelNumber}</modelNumber>`,
          `<serialNumber>${id}</serialNumber>`,
          `<UDN>uuid:${id}</UDN>`,
          '</device>',
          '</root>',
          '',
        ].join('\n');
        return reply.type('application/xml; charset=utf-8').send(xml);
      },
    );
  }
}
