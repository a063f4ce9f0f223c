import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { ENGINES_BUCKET, type EngineRecord } from '@acefleet/contracts';
import type { StackNats } from '@acefleet/testkit';

/** What the watcher saw since it started, or since the last `take()`. */
export interface CapacitySample {
  /** Record versions written with more claims than capacity. */
  versionsOverCapacity: number;
  /** The most claims beyond capacity any one version held (0: never over). */
  maxOverCapacity: number;
  /** Record versions seen: proof that the watcher followed the bucket through the fault. */
  versionsSeen: number;
}

/**
 * Claims over capacity at any time, not only at the audits: every version of every engine record the manager
 * writes to the bucket, followed by one KV watch that rides reconnects across the cluster's nodes.
 */
export class CapacityWatch {
  private sample: CapacitySample = { versionsOverCapacity: 0, maxOverCapacity: 0, versionsSeen: 0 };
  private total: CapacitySample = { ...this.sample };
  private readonly done: Promise<void>;
  private stopWatch: (() => void) | undefined;

  private constructor(private readonly nc: NatsConnection) {
    this.done = this.follow().catch((err: unknown) => {
      // A watch that dies stops the samples; the report says so through versionsSeen.
      console.error('capacity watch ended', err);
    });
  }

  static async start(nats: StackNats): Promise<CapacityWatch> {
    return new CapacityWatch(
      await nats.connect(undefined, { maxReconnectAttempts: -1, reconnectTimeWait: 250 }),
    );
  }

  private async follow(): Promise<void> {
    const kv = await new Kvm(this.nc).open(ENGINES_BUCKET);
    const watch = await kv.watch();
    this.stopWatch = () => watch.stop();
    for await (const entry of watch) {
      if (entry.operation !== 'PUT') continue;
      const record = entry.json<EngineRecord>();
      const over = Math.max(0, record.claims.length - record.capacity);
      for (const s of [this.sample, this.total]) {
        s.versionsSeen++;
        if (over > 0) s.versionsOverCapacity++;
        s.maxOverCapacity = Math.max(s.maxOverCapacity, over);
      }
    }
  }

  /** What was seen since the last take (a fault's window), and start a new window. */
  take(): CapacitySample {
    const seen = this.sample;
    this.sample = { versionsOverCapacity: 0, maxOverCapacity: 0, versionsSeen: 0 };
    return seen;
  }

  /** Everything seen since start. */
  get overall(): CapacitySample {
    return { ...this.total };
  }

  async stop(): Promise<void> {
    this.stopWatch?.();
    await this.nc.close();
    await this.done;
  }
}
