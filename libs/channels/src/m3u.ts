import { AcefleetError, contentKeyOf, type ContentRef, type SkippedEntry } from '@acefleet/contracts';
import { parseContentLink } from './content-link.ts';

/** One channel as a playlist names it, before it gets a guide number and a source. */
export interface PlaylistEntry {
  /** 1-based line of the link (its #EXTINF, if any, is above it). */
  line: number;
  content: ContentRef;
  name: string;
  tvgId?: string;
  tvgName?: string;
  logo?: string;
  group?: string;
  /** `tvg-chno` (or `channel-number`), when it is a whole number the guide can use. */
  number?: number;
}

export interface ParsedPlaylist {
  /** The guides the header names (`url-tvg`, `x-tvg-url`; comma-separated lists allowed), in order. */
  guideUrls: string[];
  entries: PlaylistEntry[];
  skipped: SkippedEntry[];
}

/** Longest line read; a longer one is skipped (a playlist line is a URL or an #EXTINF, never megabytes). */
const MAX_LINE = 8192;
const LIMITS = { name: 200, tvgId: 200, tvgName: 200, logo: 2000, group: 200 } as const;

interface ExtInf {
  attributes: Map<string, string>;
  title: string;
}

/** `#EXTINF:-1 tvg-id="a" group-title="b, c",Name, with comma`: attributes, then the title after the first comma outside quotes. */
function parseExtInf(body: string): ExtInf {
  let quoted = false;
  let comma = -1;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '"') quoted = !quoted;
    else if (c === ',' && !quoted) {
      comma = i;
      break;
    }
  }
  const head = comma < 0 ? body : body.slice(0, comma);
  const attributes = new Map<string, string>();
  for (const m of head.matchAll(/([A-Za-z0-9_-]+)="([^"]*)"/g)) attributes.set(m[1]!.toLowerCase(), m[2]!);
  return { attributes, title: comma < 0 ? '' : body.slice(comma + 1).trim() };
}

/** A value kept for a field: trimmed, control characters and quotes out (they would break an #EXTINF), cut to its limit. */
function clean(value: string | undefined, max: number): string | undefined {
  const v = value
    // eslint-disable-next-line no-control-regex -- control characters are what this removes
    ?.replace(/[\u0000-\u001f\u007f"]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return v ? [...v].slice(0, max).join('') : undefined;
}

function guideNumber(value: string | undefined): number | undefined {
  if (value === undefined || !/^\s*\d{1,6}\s*$/.test(value)) return undefined;
  const n = Number(value);
  return n >= 1 ? n : undefined;
}

function headerGuides(line: string): string[] {
  const { attributes } = parseExtInf(line.slice('#EXTM3U'.length));
  return ['url-tvg', 'x-tvg-url']
    .flatMap((name) => (attributes.get(name) ?? '').split(','))
    .map((u) => u.trim())
    .filter((u) => /^https?:\/\//i.test(u));
}

/** Why a text is not a playlist at all (HTML, JSON, XML or binary where an M3U was expected), or undefined. */
function notAPlaylist(first: string): string | undefined {
  const head = first.trimStart().slice(0, 64).toLowerCase();
  if (head.startsWith('<!doctype html') || head.startsWith('<html')) return 'it is an HTML page';
  if (head.startsWith('<')) return 'it is XML, not M3U';
  if (head.startsWith('{') || head.startsWith('[')) return 'it is JSON, not M3U';
  return undefined;
}

/**
 * Read an M3U playlist as scrapers write it. Entries are `acestream://` links, engine or proxy URLs, bare ids
 * and magnet links (see parseContentLink), each optionally under an `#EXTINF` (and `#EXTGRP`); other `#` lines
 * are ignored. An entry that cannot be read is skipped with its line and why; a second entry for the same
 * content is skipped too. A text that is no playlist at all throws `invalid_playlist`, naming the line.
 */
export function parseM3u(text: string): ParsedPlaylist {
  if (text.includes('\u0000'))
    throw new AcefleetError('invalid_playlist', 'line 1: binary data, not an M3U playlist');
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  const firstAt = lines.findIndex((l) => l.trim() !== '');
  if (firstAt < 0) throw new AcefleetError('invalid_playlist', 'the playlist is empty');
  const why = notAPlaylist(lines[firstAt]!);
  if (why) throw new AcefleetError('invalid_playlist', `line ${firstAt + 1}: ${why}`);

  const result: ParsedPlaylist = { guideUrls: [], entries: [], skipped: [] };
  const seen = new Map<string, number>();
  let info: ExtInf | undefined;
  let group: string | undefined;
  lines.forEach((raw, i) => {
    const line = raw.trim();
    const lineNo = i + 1;
    if (line === '') return;
    if (line.length > MAX_LINE) {
      result.skipped.push({ line: lineNo, reason: `line longer than ${MAX_LINE} characters` });
      info = undefined;
      return;
    }
    if (/^#EXTM3U/i.test(line)) {
      result.guideUrls.push(...headerGuides(line));
      return;
    }
    if (/^#EXTINF:/i.test(line)) {
      info = parseExtInf(line.slice('#EXTINF:'.length));
      return;
    }
    if (/^#EXTGRP:/i.test(line)) {
      group = line.slice('#EXTGRP:'.length).trim();
      return;
    }
    if (line.startsWith('#')) return;
    const link = parseContentLink(line);
    const entryInfo = info;
    const entryGroup = group;
    info = undefined;
    group = undefined;
    if ('problem' in link) {
      result.skipped.push({ line: lineNo, reason: link.problem });
      return;
    }
    const key = contentKeyOf(link.content);
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      result.skipped.push({ line: lineNo, reason: `the same content as line ${earlier}` });
      return;
    }
    seen.set(key, lineNo);
    result.entries.push(entryOf(lineNo, link.content, entryInfo, entryGroup));
  });
  result.guideUrls = [...new Set(result.guideUrls)].slice(0, 16);
  return result;
}

function entryOf(
  line: number,
  content: ContentRef,
  info: ExtInf | undefined,
  extGrp: string | undefined,
): PlaylistEntry {
  const a = info?.attributes ?? new Map<string, string>();
  const tvgName = clean(a.get('tvg-name'), LIMITS.tvgName);
  const name = clean(info?.title, LIMITS.name) ?? tvgName ?? `AceStream ${content.value.slice(0, 8)}`;
  const entry: PlaylistEntry = { line, content, name };
  const tvgId = clean(a.get('tvg-id'), LIMITS.tvgId);
  const logo = clean(a.get('tvg-logo') ?? a.get('logo'), LIMITS.logo);
  const group = clean(a.get('group-title') ?? extGrp, LIMITS.group);
  const number = guideNumber(a.get('tvg-chno') ?? a.get('channel-number'));
  if (tvgId) entry.tvgId = tvgId;
  if (tvgName) entry.tvgName = tvgName;
  if (logo) entry.logo = logo;
  if (group) entry.group = group;
  if (number) entry.number = number;
  return entry;
}
