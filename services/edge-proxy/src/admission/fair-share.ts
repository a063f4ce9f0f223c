import type { Logger } from '@acefleet/platform';
import type { LingeringShare } from './admission.ts';
import type { StreamHub } from '../session/hub.ts';
import { LingeringStreams } from './lingering.ts';

/**
 * The fleet shared fairly between clients: streams nobody watches any more (lingering, LINGER_MS) count
 * toward the share of the client that left them (Admission), and give their engine to a new channel at once
 * when the fleet is full, the one that lingered longest first (EngineSource). Before, one client opening and
 * dropping as many channels as the fleet has room for locked everyone else out for LINGER_MS. With nothing
 * lingering, a hot standby gives its engine up: a standby never keeps a channel from an engine.
 */
export class FairShare implements LingeringShare {
  readonly lingering = new LingeringStreams();
  private hub: StreamHub | undefined;

  constructor(private readonly log: Logger) {}

  /** The streams to judge (the hub is made after the engine source that calls reclaimOldest). */
  follow(hub: StreamHub): void {
    this.hub = hub;
  }

  lingers = (key: string): boolean => this.hub?.get(key)?.state === 'lingering';

  /** The client that left `key` lingering is at its share: that stream ends, its engine is given back. */
  reclaim(key: string): void {
    this.log.info({ key }, 'a client at its share opens another stream: its own oldest lingering one ends');
    void this.hub?.get(key)?.reclaimEngine();
  }

  /** The stream `key` ended: it lingers for nobody. */
  ended(key: string): void {
    this.lingering.forget(key);
  }

  /** The fleet is full: the stream that lingered longest gives its engine up (resolves once it is back). */
  async reclaimOldest(): Promise<boolean> {
    const key = this.lingering.oldest(this.lingers);
    const stream = key === undefined ? undefined : this.hub?.get(key);
    if (!stream) return this.reclaimStandby();
    this.log.info(
      { streamId: stream.id },
      'the fleet is full: the oldest lingering stream gives its engine up',
    );
    await stream.reclaimEngine();
    return true;
  }

  /** The fleet is full and nothing lingers: a hot standby gives its engine up first (resolves once it is back). */
  private async reclaimStandby(): Promise<boolean> {
    const stream = this.hub?.all().find((s) => s.standbyLease !== undefined);
    if (!stream) return false;
    this.log.info({ streamId: stream.id }, 'the fleet is full: a hot standby gives its engine up');
    await stream.giveUpStandby();
    return true;
  }
}
