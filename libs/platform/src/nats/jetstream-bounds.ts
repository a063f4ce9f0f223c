import { Type } from '@sinclair/typebox';
import { DEFAULT_KV_MAX_BYTES } from '@acefleet/contracts';

const HOUR_MS = 3600_000;
const DAY_MS = 24 * HOUR_MS;
const MIB = 1024 * 1024;

/** The bounds as a service reads them (every service may create the streams, so every service has them). */
export interface JetStreamBounds {
  eventsMaxAgeMs: number;
  eventsMaxBytes: number;
  samplesMaxAgeMs: number;
  samplesMaxBytes: number;
  kvMaxBytes: number;
}

export const defaultJetStreamBounds: JetStreamBounds = {
  eventsMaxAgeMs: 7 * DAY_MS,
  eventsMaxBytes: 512 * MIB,
  samplesMaxAgeMs: 6 * HOUR_MS,
  samplesMaxBytes: 256 * MIB,
  kvMaxBytes: DEFAULT_KV_MAX_BYTES,
};

/**
 * How much JetStream keeps, so that months unattended fill no disk: every stream and KV bucket has a byte
 * bound, and the samples (one per playing stream every STAT_INTERVAL_MS) are kept hours where the lifecycle
 * events are kept days. Where a bound is reached, the oldest messages go first (JetStream's `discard: old`).
 * The arithmetic behind the defaults is in README.md ("What the disk holds").
 */
export const JetStreamBoundsConfig = {
  eventsMaxAgeMs: Type.Integer({
    default: defaultJetStreamBounds.eventsMaxAgeMs,
    minimum: HOUR_MS,
    maximum: 365 * DAY_MS,
    description: 'lifecycle events (streams, players, engines) are kept this long in ACEFLEET_EVENTS',
  }),
  eventsMaxBytes: Type.Integer({
    default: defaultJetStreamBounds.eventsMaxBytes,
    minimum: MIB,
    maximum: 1024 ** 4,
    description:
      'bytes ACEFLEET_EVENTS keeps at most (oldest dropped first): about 1 MB per channel per day, so 50 channels for 7 days fit in 350 MB',
  }),
  samplesMaxAgeMs: Type.Integer({
    default: defaultJetStreamBounds.samplesMaxAgeMs,
    minimum: 60_000,
    maximum: 7 * DAY_MS,
    description:
      "the per-stream samples (health-monitor's stream.stats, every STAT_INTERVAL_MS) are kept this long in ACEFLEET_SAMPLES",
  }),
  samplesMaxBytes: Type.Integer({
    default: defaultJetStreamBounds.samplesMaxBytes,
    minimum: MIB,
    maximum: 1024 ** 4,
    description:
      'bytes ACEFLEET_SAMPLES keeps at most (oldest dropped first): a sample is about 520 bytes, so one channel takes about 9 MB a day; 50 channels for 6 hours, 115 MB',
  }),
  kvMaxBytes: Type.Integer({
    default: defaultJetStreamBounds.kvMaxBytes,
    minimum: MIB,
    maximum: 1024 ** 4,
    description:
      'bytes each KV bucket (engines, leaders, channels, tokens; one revision a key) holds at most: an engine record is about 1 KB, a channel about 0.5 KB',
  }),
};
