import { createHash } from 'node:crypto';
import { Kvm } from '@nats-io/kv';
import { AcefleetError, CHANNELS_BUCKET } from '@acefleet/contracts';
import { ChannelDirectory, openChannelsKv } from '@acefleet/channels';
import type { Logger, NatsConnection } from '@acefleet/platform';
import { openTokensKv, TokenDirectory } from '@acefleet/player-tokens';
import { hdhomerunDeviceId } from './hdhomerun-device.ts';

/**
 * What the proxy serves players beside streams, once NATS is connected: the channels and the player tokens
 * (live copies of their buckets), and the connection the admin routes write through. Until then the
 * catalog routes answer control_plane_unavailable.
 */
export class Catalog {
  private channelDirectory: ChannelDirectory | undefined;
  private tokenDirectory: TokenDirectory | undefined;
  private nc: NatsConnection | undefined;
  private deviceId: string | undefined;

  constructor(
    private readonly log: Logger,
    private readonly onRevoked: (tokenName: string) => void,
  ) {}

  /** Open (or make) both buckets and load their copies; a NATS set-up step (retried when it throws). */
  async connect(nc: NatsConnection): Promise<void> {
    await Promise.all([openChannelsKv(nc), openTokensKv(nc)]);
    const channels = new ChannelDirectory(nc, this.log);
    const tokens = new TokenDirectory(nc, this.log, this.onRevoked);
    await Promise.all([channels.start(), tokens.start()]);
    const { streamInfo } = await (await new Kvm(nc).open(CHANNELS_BUCKET)).status();
    this.deviceId = hdhomerunDeviceId(createHash('sha256').update(streamInfo.created).digest());
    this.channelDirectory = channels;
    this.tokenDirectory = tokens;
    this.nc = nc;
    this.log.info(
      { channels: channels.channels().length, tokens: tokens.size },
      'channels and player tokens loaded',
    );
  }

  async close(): Promise<void> {
    await Promise.all([this.channelDirectory?.stop(), this.tokenDirectory?.stop()]);
  }

  get tokens(): TokenDirectory | undefined {
    return this.tokenDirectory;
  }

  /** The channels once loaded, else undefined. */
  loaded(): ChannelDirectory | undefined {
    return this.channelDirectory;
  }

  /** The channels, or control_plane_unavailable while they are not loaded. */
  channels(): ChannelDirectory {
    return this.ready().channels;
  }

  /** The connection admin operations write through. */
  connection(): NatsConnection {
    return this.ready().nc;
  }

  /** The fleet's HDHomeRun DeviceID: derived from the channels bucket, so every proxy has the same one. */
  hdhomerunDeviceId(): string {
    return this.ready().deviceId;
  }

  private ready(): { channels: ChannelDirectory; nc: NatsConnection; deviceId: string } {
    if (!this.channelDirectory || !this.nc || !this.deviceId) {
      throw new AcefleetError('control_plane_unavailable', 'channels are not loaded yet (waiting for NATS)', {
        retryAfterMs: 2000,
      });
    }
    return { channels: this.channelDirectory, nc: this.nc, deviceId: this.deviceId };
  }
}
