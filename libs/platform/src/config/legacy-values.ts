import type { ValueReader } from './legacy-env.ts';

const GO_UNIT_NS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  μs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/**
 * A Go duration (time.ParseDuration: `300ms`, `30s`, `1m30s`, `1.5h`, or a bare `0`) in milliseconds,
 * rounded; undefined when it is not one. Negative durations are refused: no acefleet setting takes them.
 */
export function parseGoDuration(text: string): number | undefined {
  const s = text.trim().replace(/^\+/, '');
  if (s === '0') return 0;
  if (!/^((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$/.test(s)) return undefined;
  let ns = 0;
  for (const [, num, unit] of s.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    ns += Number(num) * (GO_UNIT_NS[unit!] ?? Number.NaN);
  }
  return Number.isFinite(ns) ? Math.round(ns / 1e6) : undefined;
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1 };
['k', 'm', 'g', 't', 'p', 'e'].forEach((prefix, i) => {
  const si = 1000 ** (i + 1);
  const iec = 1024 ** (i + 1);
  Object.assign(SIZE_UNITS, { [prefix]: si, [`${prefix}b`]: si, [`${prefix}i`]: iec, [`${prefix}ib`]: iec });
});

/**
 * A size as go-humanize's ParseBytes reads it (Acexy's ACEXY_BUFFER_SIZE): a number, optional spaces, an
 * optional unit, case-insensitive; `kB`/`MB`/`k`/`M` are powers of 1000, `KiB`/`MiB`/`Ki`/`Mi` of 1024.
 * `4.2MiB` is 4404019 bytes. Undefined when it is not a size.
 */
export function parseHumanBytes(text: string): number | undefined {
  const match = /^(\d[\d,]*(?:\.\d*)?|\.\d+)\s*([a-z]*)$/i.exec(text.trim());
  if (!match) return undefined;
  const unit = SIZE_UNITS[match[2]!.toLowerCase()];
  if (unit === undefined) return undefined;
  const bytes = Math.floor(Number(match[1]!.replaceAll(',', '')) * unit);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** Readers for the kinds of value the legacy projects use, each giving the acefleet variable's text. */
export const legacyValues = {
  goDurationMs: {
    expected: 'a Go duration such as 30s, 1m30s or 500ms',
    read: (v) => parseGoDuration(v)?.toString(),
  },
  humanBytes: {
    expected: 'a size such as 4MB, 4.2MiB or 4194304',
    read: (v) => parseHumanBytes(v)?.toString(),
  },
  secondsMs: {
    expected: 'a number of seconds',
    read: (v) => (/^\d+(\.\d+)?$/.test(v) ? String(Math.round(Number(v) * 1000)) : undefined),
  },
  count: {
    expected: 'a whole number',
    read: (v) => (/^\d+$/.test(v) ? String(Number(v)) : undefined),
  },
  text: { expected: 'a value', read: (v) => v },
} satisfies Record<string, ValueReader>;
