// Misbehaviours of real engines, switchable process-wide and per content (content id or infohash).
import { badBodies, type BadBody } from './bad-body.ts';

export interface Faults {
  /** Delay before the getstream / manifest JSON answer (or redirect). */
  startDelayMs: number;
  /** Delay before the playback response (headers and first byte). */
  firstByteDelayMs: number;
  /** getstream answers `failed to load content`. */
  offline: boolean;
  /** The playback body goes silent (stays open) this long after its first byte. */
  stallAfterMs: number | null;
  /** The playback body ends (EOF) this long after its first byte; the session lives on. */
  eofAfterMs: number | null;
  /** The engine ends the session this long after a body's first byte (the periodic cut of engines < 3.2). */
  cutAfterMs: number | null;
  /** The body comes at most this fast (kbit/s): the engine gets the stream slower than it plays. */
  slowBody: number | null;
  /** The video PID stops carrying payload; audio, PAT/PMT and the PCR go on. */
  frozenVideo: boolean;
  /** The audio PIDs stop carrying payload; video, PAT/PMT and the PCR go on. */
  frozenAudio: boolean;
  /** The playback body (status 200) is not MPEG-TS: an error page, random bytes, or an MKV / MP4 file. */
  badBody: BadBody | null;
  /** stat and stop answer `unknown playback session id`. */
  expireSessions: boolean;
  /** get_status / get_version / get_network_connection_status never answer. */
  hangHealth: boolean;
  /** get_network_connection_status answers `connected: false`. */
  networkDisconnected: boolean;
  /** stat reports peers 0 and speed_down 0. */
  starved: boolean;
  /** speed_down reported by stat, KB/s; null derives it from the bitrate. */
  speedDownKbps: number | null;
  /** peers reported by stat. */
  peers: number;
}

export type FaultPatch = Partial<Faults>;

export const noFaults: Readonly<Faults> = Object.freeze({
  startDelayMs: 0,
  firstByteDelayMs: 0,
  offline: false,
  stallAfterMs: null,
  eofAfterMs: null,
  cutAfterMs: null,
  slowBody: null,
  frozenVideo: false,
  frozenAudio: false,
  badBody: null,
  expireSessions: false,
  hangHealth: false,
  networkDisconnected: false,
  starved: false,
  speedDownKbps: null,
  peers: 8,
});

type FaultKind = 'ms' | 'nullableMs' | 'flag' | 'count' | 'nullableCount' | 'nullableBadBody';

export const faultKinds: Readonly<Record<keyof Faults, FaultKind>> = Object.freeze({
  startDelayMs: 'ms',
  firstByteDelayMs: 'ms',
  offline: 'flag',
  stallAfterMs: 'nullableMs',
  eofAfterMs: 'nullableMs',
  cutAfterMs: 'nullableMs',
  slowBody: 'nullableCount',
  frozenVideo: 'flag',
  frozenAudio: 'flag',
  badBody: 'nullableBadBody',
  expireSessions: 'flag',
  hangHealth: 'flag',
  networkDisconnected: 'flag',
  starved: 'flag',
  speedDownKbps: 'nullableCount',
  peers: 'count',
});

export class FaultError extends Error {
  override name = 'FaultError';
  /** BAD_KEY: no fault of that name; BAD_FAULT: a value the fault does not take. */
  constructor(
    message: string,
    readonly code: 'BAD_FAULT' | 'BAD_KEY' = 'BAD_FAULT',
  ) {
    super(message);
  }
}

function isFaultKey(key: string): key is keyof Faults {
  return Object.hasOwn(faultKinds, key);
}

function checkValue(key: keyof Faults, value: unknown): Faults[keyof Faults] {
  const kind = faultKinds[key];
  if (kind === 'flag') {
    if (typeof value !== 'boolean') throw new FaultError(`${key} must be a boolean`);
    return value;
  }
  if (value === null && kind.startsWith('nullable')) return null;
  if (kind === 'nullableBadBody') {
    if (!badBodies.includes(value as BadBody)) {
      throw new FaultError(`${key} must be one of ${badBodies.join(', ')} or null`);
    }
    return value as BadBody;
  }
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new FaultError(`${key} must be a number >= 0${kind.startsWith('nullable') ? ' or null' : ''}`);
  }
  return value;
}

/** Validates an untrusted patch (admin API body). */
export function parseFaultPatch(input: unknown): FaultPatch {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new FaultError('faults must be a JSON object');
  }
  const patch: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    if (!isFaultKey(key)) throw new FaultError(`unknown fault ${key}`, 'BAD_KEY');
    patch[key] = checkValue(key, value);
  }
  return patch;
}

/** Parses a fault from its text form (env or CLI): numbers, `true`/`false`, `null`/empty. */
export function parseFaultText(key: string, text: string): FaultPatch {
  if (!isFaultKey(key)) throw new FaultError(`unknown fault ${key}`, 'BAD_KEY');
  const kind = faultKinds[key];
  let value: unknown = text;
  if (kind === 'flag') value = text === '' || text === 'true' || text === '1' || text === 'yes';
  else if (text === '' || text === 'null') value = null;
  else if (kind !== 'nullableBadBody') value = Number(text);
  return { [key]: checkValue(key, value) };
}

export type PatchMode = 'merge' | 'replace';

export interface FaultSnapshot {
  global: Faults;
  content: Record<string, FaultPatch>;
}

/** Global faults plus per-content overrides keyed by lower-case content id or infohash. */
export class FaultStore {
  #global: Faults;
  readonly #content = new Map<string, FaultPatch>();

  constructor(private readonly defaults: Readonly<Faults>) {
    this.#global = { ...defaults };
  }

  setGlobal(patch: FaultPatch, mode: PatchMode = 'merge'): Faults {
    this.#global = { ...(mode === 'replace' ? noFaults : this.#global), ...patch };
    return { ...this.#global };
  }

  setContent(key: string, patch: FaultPatch, mode: PatchMode = 'merge'): FaultPatch {
    const k = key.toLowerCase();
    const next = { ...(mode === 'replace' ? {} : this.#content.get(k)), ...patch };
    this.#content.set(k, next);
    return { ...next };
  }

  clearContent(key: string): boolean {
    return this.#content.delete(key.toLowerCase());
  }

  /** Restores the process defaults and drops every per-content override. */
  reset(): void {
    this.#global = { ...this.defaults };
    this.#content.clear();
  }

  /** The faults in force for a content; infohash overrides win over content id overrides. */
  resolve(...keys: (string | undefined)[]): Faults {
    let faults = { ...this.#global };
    for (const key of keys) {
      const patch = key === undefined ? undefined : this.#content.get(key.toLowerCase());
      if (patch) faults = { ...faults, ...patch };
    }
    return faults;
  }

  snapshot(): FaultSnapshot {
    return { global: { ...this.#global }, content: Object.fromEntries(this.#content) };
  }
}
