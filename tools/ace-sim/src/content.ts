// Which content a start asks for: exactly one selector, mapped to the infohash the engine would use.
import { createHash } from 'node:crypto';

export interface ContentRef {
  infohash: string;
  /** The content id when the start named one; per-content faults may be keyed by it. */
  contentId?: string;
}

export const HEX40 = /^[0-9a-f]{40}$/i;
const SELECTORS = ['id', 'content_id', 'infohash', 'url', 'magnet'] as const;

const sha1 = (text: string): string => createHash('sha1').update(text).digest('hex');

/** The infohash of a content id: deterministic, so every start of one id lands on one infohash. */
export const infohashOfContentId = (id: string): string => sha1(`ace-sim:content:${id.toLowerCase()}`);

export function resolveContent(query: URLSearchParams): ContentRef | { error: string } {
  const given = SELECTORS.filter((name) => query.has(name));
  const [selector] = given;
  if (selector === undefined) return { error: 'missing content id' };
  if (given.length > 1) return { error: `exactly one of ${SELECTORS.join(', ')} expected` };
  const value = query.get(selector) ?? '';
  switch (selector) {
    case 'id':
    case 'content_id':
      if (!HEX40.test(value)) return { error: 'failed to load content' };
      return { infohash: infohashOfContentId(value), contentId: value.toLowerCase() };
    case 'infohash':
      if (!HEX40.test(value)) return { error: 'failed to load content' };
      return { infohash: value.toLowerCase() };
    case 'magnet': {
      const btih = /urn:btih:([0-9a-f]{40})/i.exec(value)?.[1];
      return { infohash: btih?.toLowerCase() ?? sha1(value) };
    }
    case 'url':
      return value === '' ? { error: 'failed to load content' } : { infohash: sha1(value) };
  }
}
