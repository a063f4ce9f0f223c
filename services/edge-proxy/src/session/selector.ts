import { AcefleetError, contentKeyOf, type ContentRef } from '@acefleet/contracts';

const HEX40 = /^[0-9a-fA-F]{40}$/;

/** Selectors a player may use; `content_id` is the engine's other name for `id`. */
const SELECTORS = new Map<string, ContentRef['kind']>([
  ['id', 'id'],
  ['content_id', 'id'],
  ['infohash', 'infohash'],
]);

/**
 * Output options a player may choose (../shared/acestream-engine-api.md, "Playback parameters"). They change
 * the bytes the engine sends, so they are part of the stream key: players with different options never share
 * one engine session.
 */
const OUTPUT_OPTIONS = new Set([
  'file_indexes',
  '_idx',
  'next_file_indexes',
  'start_from',
  'quality',
  'stream_id',
  'transcode_audio',
  'transcode_mp3',
  'transcode_ac3',
  'preferred_audio_language',
  'playlist_output_format_vod',
  'playlist_output_format_live',
  'playlist_selected_indexes',
  'hlc',
]);

/** Selectors that make the engine fetch an address the player chose: refused. */
const FOREIGN_SELECTORS = new Set(['url', 'direct_url', 'magnet']);
/**
 * `sid`, the engine's deprecated alias of `pid`, takes over engine sessions: refused. `pid` itself is left in
 * the URLs scrapers and playlists write (Acexy-era links), so it is accepted and dropped: the proxy picks a
 * fresh player id for each engine session anyway.
 */
const PLAYER_IDS = new Set(['sid']);

export interface StreamSelector {
  content: ContentRef;
  /** The player's output options: lower-case names, sorted by name; passed to the engine. */
  options: Record<string, string>;
  /** Content plus options: requests with the same key share one engine session. */
  key: string;
  /** Names the proxy ignored (its own, engine internals, unknown): for a log line, never sent on. */
  dropped: string[];
}

type Query = Record<string, string | string[] | undefined>;

function refuse(given: string, name: string): never {
  if (PLAYER_IDS.has(name)) {
    throw new AcefleetError(
      'pid_not_allowed',
      `"${given}" takes over engine sessions and is not allowed; remove it from the URL (pid is fine)`,
    );
  }
  throw new AcefleetError(
    'parameter_not_allowed',
    `"${given}" is not allowed: select content with "id" or "infohash" (40 hex characters)`,
  );
}

/** The query with lower-case names; a name given twice (in any case) is refused. */
function lowerCased(query: Query): Map<string, { given: string; value: string }> {
  const seen = new Map<string, { given: string; value: string }>();
  for (const [given, value] of Object.entries(query)) {
    if (value === undefined) continue;
    const name = given.toLowerCase();
    if (PLAYER_IDS.has(name) || FOREIGN_SELECTORS.has(name)) refuse(given, name);
    if (Array.isArray(value) || seen.has(name)) {
      throw new AcefleetError('bad_request', `"${name}" is given more than once`);
    }
    seen.set(name, { given, value });
  }
  return seen;
}

function selectContent(params: Map<string, { given: string; value: string }>): ContentRef {
  const chosen = [...params].filter(([name]) => SELECTORS.has(name));
  if (chosen.length > 1) {
    throw new AcefleetError('ambiguous_id', 'give either "id" or "infohash", not both');
  }
  const [selector] = chosen;
  if (!selector)
    throw new AcefleetError('missing_id', 'the URL needs "id" or "infohash" (40 hex characters)');
  const [name, { value: given }] = selector;
  // Players copy ids as playlists write them: `acestream://<id>` is the same id.
  const value = given.replace(/^acestream:\/*/i, '').replace(/\/+$/, '');
  if (!HEX40.test(value)) throw new AcefleetError('invalid_id', `"${name}" must be 40 hex characters`);
  return { kind: SELECTORS.get(name)!, value: value.toLowerCase() };
}

/** Whether the query names content at all (in any case), as opposed to asking about the whole proxy. */
export function hasSelector(query: Query): boolean {
  return Object.keys(query).some((name) => SELECTORS.has(name.toLowerCase()));
}

/**
 * Read a player's URL parameters: exactly one selector (40 hex), output options from the allow-list,
 * nothing that makes the engine fetch elsewhere or takes over the session. Names match case-insensitively,
 * because a filter that engines would read differently (`URL=`, `Direct_Url=`) is no filter.
 */
export function parseSelector(query: Query): StreamSelector {
  const params = lowerCased(query);
  const content = selectContent(params);
  const options: Record<string, string> = {};
  const dropped: string[] = [];
  for (const [name, { value }] of [...params].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (OUTPUT_OPTIONS.has(name)) options[name] = value;
    else if (!SELECTORS.has(name)) dropped.push(name);
  }
  const optionsPart = new URLSearchParams(options).toString();
  const key = optionsPart ? `${contentKeyOf(content)}?${optionsPart}` : contentKeyOf(content);
  return { content, options, key, dropped };
}
