import { setTimeout as sleep } from 'node:timers/promises';
import type { ChannelRecord } from '@acefleet/contracts';
import { importSource, sourceName, type SourceLimits } from '@acefleet/channels';
import { supervise, type Logger, type NatsConnection, type Supervised } from '@acefleet/platform';

/**
 * PLAYLIST_SOURCES: each file or URL is imported when NATS is there and again every `refreshMs`. A source that
 * cannot be read, or reads as no playlist, is logged and changes nothing (what it gave before stays); the
 * others are imported anyway. Every proxy with the setting does this; imports are idempotent, so several
 * proxies reading the same sources leave the same channels.
 */
export class PlaylistSources {
  private loop: Supervised | undefined;

  constructor(
    private readonly sources: string[],
    private readonly limits: SourceLimits,
    private readonly refreshMs: number,
    private readonly log: Logger,
    /** The channels as the proxy's live copy has them (so an import does not read the whole bucket). */
    private readonly current: () => ReadonlyMap<string, ChannelRecord>,
  ) {}

  start(nc: NatsConnection): void {
    if (this.sources.length === 0 || this.loop) return;
    this.loop = supervise('playlist sources', this.log, async (signal) => {
      while (!signal.aborted) {
        await this.importAll(nc);
        // Aborted by stop(): the loop ends.
        await sleep(this.refreshMs, undefined, { signal }).catch(() => undefined);
      }
    });
  }

  async stop(): Promise<void> {
    await this.loop?.stop();
  }

  /** One round over every source; resolves when each was imported or failed. */
  async importAll(nc: NatsConnection): Promise<void> {
    for (const source of this.sources) {
      const name = sourceName(source);
      try {
        const report = await importSource(nc, source, this.limits, this.current());
        const { added, updated, removed, unchanged, skipped } = report;
        this.log.info(
          { source: name, added, updated, removed, unchanged, skipped: skipped.length },
          'playlist source imported',
        );
        for (const entry of skipped.slice(0, 20))
          this.log.warn({ source: name, ...entry }, 'playlist entry skipped');
      } catch (err) {
        this.log.warn(
          { source: name, err: (err as Error).message },
          'playlist source not imported; its channels are kept',
        );
      }
    }
  }
}
