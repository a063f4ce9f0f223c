import type { EventPublisher, Logger } from '@acefleet/platform';
import type { EngineSource } from '../engines/engine-source.ts';
import type { FlushClock } from '../fanout/flush-clock.ts';
import type { RingMemory } from '../fanout/ring-memory.ts';
import type { ProxyMetrics } from '../metrics.ts';
import type { AttachmentSettings } from './engine-attachment.ts';
import type { FailoverSettings } from './failover.ts';
import type { Stream } from './stream.ts';
import type { OutputSettings } from './stream-outputs.ts';

export interface StreamSettings extends OutputSettings, AttachmentSettings, FailoverSettings {
  /** Longest wait before arriving bytes are flushed to players (see flushDelayMs). */
  coalesceMs: number;
  lingerMs: number;
  /** Players from which a channel keeps a hot standby (0: never), and its quick stall limit. */
  hotStandbyViewers: number;
  standbyStallMs: number;
}

export interface StreamDeps {
  engines: EngineSource;
  events: EventPublisher;
  metrics: ProxyMetrics;
  log: Logger;
  proxyId: string;
  settings: StreamSettings;
  /** The proxy-wide flush clock and ring memory account, shared by every stream. */
  clock: FlushClock;
  memory: RingMemory;
  onEnded: (stream: Stream) => void;
  /** Told when players join or leave (the control link publishes viewer counts from it). */
  onViewersChanged?: (stream: Stream) => void;
}
