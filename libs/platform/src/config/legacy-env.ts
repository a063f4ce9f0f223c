import { ConfigError } from './config.ts';

/**
 * One way to read another project's settings (Acexy, acestream-orchestrator): the legacy variables it reads
 * and the acefleet variables it writes. `convert` gets every legacy variable of `from` (unset ones are
 * undefined) and returns a value for each name in `to`; it throws LegacyValueError for a value it cannot read.
 */
export interface LegacyRule {
  from: readonly string[];
  to: readonly string[];
  convert(values: Readonly<Record<string, string | undefined>>): Record<string, string>;
}

/** A legacy variable whose value cannot be read; mapLegacyEnv turns it into a ConfigError naming the variable. */
export class LegacyValueError extends Error {
  override readonly name = 'LegacyValueError';
  constructor(
    readonly variable: string,
    readonly value: string,
    expected: string,
  ) {
    super(`${variable} (${JSON.stringify(value)}): expected ${expected}`);
  }
}

export interface LegacyEnv {
  /** The environment with the acefleet variables the legacy ones stand for added. */
  env: NodeJS.ProcessEnv;
  /** One line per rule that applied ("read X as Y") or was overridden; never a value. */
  notes: string[];
}

const isSet = (value: string | undefined): value is string => value !== undefined && value !== '';

/**
 * Add to `env` what the legacy variables of `rules` mean in acefleet. An acefleet variable that is already set
 * (explicitly, or by an earlier rule) wins over the legacy one. Pure: reads only `env`, logs nothing.
 * Throws a ConfigError naming every legacy variable that has a value it cannot read.
 */
export function mapLegacyEnv(env: NodeJS.ProcessEnv, rules: readonly LegacyRule[]): LegacyEnv {
  const out: NodeJS.ProcessEnv = { ...env };
  const notes: string[] = [];
  const problems: string[] = [];
  for (const rule of rules) {
    const given = rule.from.filter((name) => isSet(env[name]));
    if (given.length === 0) continue;
    const free = rule.to.filter((name) => !isSet(out[name]));
    if (free.length === 0) {
      notes.push(`ignored ${given.join(', ')}: ${rule.to.join(', ')} already set`);
      continue;
    }
    let values: Record<string, string>;
    try {
      values = rule.convert(Object.fromEntries(rule.from.map((name) => [name, env[name] || undefined])));
    } catch (err) {
      if (!(err instanceof LegacyValueError)) throw err;
      problems.push(err.message);
      continue;
    }
    for (const name of free) out[name] = values[name];
    notes.push(`read ${given.join(', ')} as ${free.join(', ')}`);
  }
  if (problems.length > 0) {
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return { env: out, notes };
}

/** How to read one kind of legacy value: the acefleet value, or undefined when the value cannot be read. */
export interface ValueReader {
  /** What a readable value looks like, for the error message. */
  expected: string;
  read(value: string): string | undefined;
}

/** The acefleet value of legacy variable `name`, or a LegacyValueError naming it. */
export function readLegacy(name: string, value: string, reader: ValueReader): string {
  const read = reader.read(value.trim());
  if (read === undefined) throw new LegacyValueError(name, value, reader.expected);
  return read;
}

/** The common rule: one legacy variable stands for one acefleet variable (the value read by `reader`). */
export function renamed(from: string, to: string, reader: ValueReader): LegacyRule {
  return {
    from: [from],
    to: [to],
    convert: (values) => ({ [to]: readLegacy(from, values[from] ?? '', reader) }),
  };
}
