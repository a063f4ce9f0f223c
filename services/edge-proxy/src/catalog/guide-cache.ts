import { AcefleetError, redactCredentials } from '@acefleet/contracts';
import { readSource, sourceName } from '@acefleet/channels';
import type { Logger } from '@acefleet/platform';
import { mergeXmltv, readXmltv, type XmltvParts } from './xmltv.ts';

export interface GuideLimits {
  timeoutMs: number;
  maxBytes: number;
  /** A merged guide is served this long before its sources are read again. */
  cacheMs: number;
}

interface Built {
  key: string;
  at: number;
  xml: string;
}

/**
 * /epg.xml: the XMLTV guides the playlist sources name, read (time and size limits), checked, merged and
 * kept for `cacheMs`. Concurrent requests share one read. A guide that cannot be read is left out and named
 * in the answer and the log; only when every guide fails is the answer an error (the last one kept is served
 * meanwhile, if any).
 */
export class GuideCache {
  private built: Built | undefined;
  private building: { key: string; done: Promise<string> } | undefined;

  constructor(
    private readonly limits: GuideLimits,
    private readonly log: Logger,
  ) {}

  async xml(urls: readonly string[]): Promise<string> {
    const key = [...urls].sort().join('\n');
    const built = this.built;
    if (built && built.key === key && Date.now() - built.at < this.limits.cacheMs) return built.xml;
    if (this.building?.key !== key) {
      const done = this.build(urls).finally(() => {
        if (this.building?.done === done) this.building = undefined;
      });
      this.building = { key, done };
    }
    try {
      return await this.building.done;
    } catch (err) {
      if (built && built.key === key) {
        this.log.warn({ err }, 'guides unreadable; serving the last merged guide');
        return built.xml;
      }
      throw err;
    }
  }

  private async build(urls: readonly string[]): Promise<string> {
    const results = await Promise.allSettled(urls.map((url) => this.read(url)));
    const guides: XmltvParts[] = [];
    const skipped: string[] = [];
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') guides.push(r.value);
      else
        skipped.push(
          r.reason instanceof AcefleetError ? r.reason.message : `${sourceName(urls[i]!)}: unreadable`,
        );
    });
    if (skipped.length > 0) this.log.warn({ skipped }, 'guides left out of /epg.xml');
    if (urls.length > 0 && guides.length === 0) {
      const noneIsXmltv = results.every(
        (r) => r.status === 'rejected' && (r.reason as AcefleetError).code === 'invalid_guide',
      );
      throw new AcefleetError(
        noneIsXmltv ? 'invalid_guide' : 'source_unavailable',
        `no guide could be read: ${skipped.join('; ')}`,
      );
    }
    const xml = mergeXmltv(guides, skipped);
    this.built = { key: [...urls].sort().join('\n'), at: Date.now(), xml };
    return xml;
  }

  private async read(url: string): Promise<XmltvParts> {
    const data = await readSource(url, { timeoutMs: this.limits.timeoutMs, maxBytes: this.limits.maxBytes });
    return readXmltv(data.toString('utf8'), redactCredentials(sourceName(url)));
  }
}
