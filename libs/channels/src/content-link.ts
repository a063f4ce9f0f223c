import type { ContentRef } from '@acefleet/contracts';

const HEX40 = /^[0-9a-f]{40}$/i;
const BASE32_32 = /^[a-z2-7]{32}$/i;

/** What a playlist line names: the content, or why it names none. */
export type LinkResult = { content: ContentRef } | { problem: string };

const NOT_A_LINK =
  'not an AceStream link: use acestream://<id>, an engine or proxy URL with id= or infohash=, 40 hex characters, or a magnet link';

function hex(kind: ContentRef['kind'], value: string, what: string): LinkResult {
  const v = value.trim();
  return HEX40.test(v)
    ? { content: { kind, value: v.toLowerCase() } }
    : { problem: `${what} must be 40 hex characters, not ${v.length} characters` };
}

/** A BitTorrent v1 infohash written in base32 (32 letters), as some magnet links carry it, in hex. */
function base32ToHex(text: string): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let bits = '';
  for (const c of text.toLowerCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  let out = '';
  for (let i = 0; i < 160; i += 4) out += parseInt(bits.slice(i, i + 4), 2).toString(16);
  return out;
}

function fromMagnet(link: string): LinkResult {
  const query = new URLSearchParams(link.slice(link.indexOf('?') + 1));
  for (const xt of query.getAll('xt')) {
    const m = /^urn:btih:(.+)$/i.exec(xt);
    if (!m) continue;
    const hash = m[1]!;
    if (BASE32_32.test(hash)) return { content: { kind: 'infohash', value: base32ToHex(hash) } };
    return hex('infohash', hash, 'the magnet link’s btih');
  }
  return { problem: 'the magnet link has no xt=urn:btih:<infohash>' };
}

/**
 * An http(s) URL of an engine or proxy: `id`, `content_id` or `infohash` in its query (Acexy, the engine's own
 * URLs, with any other parameters such as `pid`), else a path segment of 40 hex characters (HTTPAceProxy's
 * `/content_id/<id>/…` and `/infohash/<hash>/…`).
 */
function fromHttpUrl(link: string): LinkResult {
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    return { problem: 'not a valid URL' };
  }
  for (const [name, value] of url.searchParams) {
    const lower = name.toLowerCase();
    if (lower === 'id' || lower === 'content_id') return hex('id', value, `"${name}"`);
    if (lower === 'infohash') return hex('infohash', value, `"${name}"`);
  }
  const segments = url.pathname.split('/');
  const at = segments.findIndex((s) => HEX40.test(s));
  if (at >= 0) {
    const kind = segments[at - 1]?.toLowerCase() === 'infohash' ? 'infohash' : 'id';
    return { content: { kind, value: segments[at]!.toLowerCase() } };
  }
  return { problem: 'the URL names no content: it has no id= or infohash= and no 40-hex path segment' };
}

/** Read the content an M3U entry (or a player's `id`) names; see LinkResult. */
export function parseContentLink(line: string): LinkResult {
  const link = line.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(link)?.[1]?.toLowerCase();
  if (scheme === 'acestream')
    return hex('id', link.replace(/^acestream:\/*/i, '').split(/[/?#]/)[0]!, 'acestream:// id');
  if (scheme === 'magnet') return fromMagnet(link);
  if (scheme === 'http' || scheme === 'https') return fromHttpUrl(link);
  if (!scheme && HEX40.test(link)) return { content: { kind: 'id', value: link.toLowerCase() } };
  return { problem: NOT_A_LINK };
}
