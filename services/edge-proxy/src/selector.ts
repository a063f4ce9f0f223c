import { AcefleetError, type ContentRef } from '@acefleet/contracts';

const HEX40 = /^[0-9a-fA-F]{40}$/;
/** Parameters that select content or identify the session: never passed through to the engine. */
const RESERVED = new Set(['id', 'infohash', 'pid', 'format', 'content_id', 'url', 'magnet']);

export interface StreamSelector {
  content: ContentRef;
  /** Other player parameters, passed to the engine untouched. */
  extraParams: Record<string, string>;
}

type Query = Record<string, string | string[] | undefined>;

function single(query: Query, name: string): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) throw new AcefleetError('bad_request', `"${name}" is given more than once`);
  return value;
}

/** Acexy-compatible selection: exactly one of id/infohash (40 hex), no pid. */
export function parseSelector(query: Query): StreamSelector {
  if (query.pid !== undefined) {
    throw new AcefleetError('pid_not_allowed', 'the proxy chooses the player id; remove "pid" from the URL');
  }
  const id = single(query, 'id');
  const infohash = single(query, 'infohash');
  if (id !== undefined && infohash !== undefined) {
    throw new AcefleetError('ambiguous_id', 'give either "id" or "infohash", not both');
  }
  if (id === undefined && infohash === undefined) {
    throw new AcefleetError('missing_id', 'the URL needs "id" or "infohash" (40 hex characters)');
  }
  const kind = id !== undefined ? 'id' : 'infohash';
  const value = (id ?? infohash)!;
  if (!HEX40.test(value)) {
    throw new AcefleetError('invalid_id', `"${kind}" must be 40 hex characters`);
  }
  const extraParams: Record<string, string> = {};
  for (const [k, v] of Object.entries(query)) {
    if (!RESERVED.has(k) && typeof v === 'string') extraParams[k] = v;
  }
  return { content: { kind, value: value.toLowerCase() }, extraParams };
}
