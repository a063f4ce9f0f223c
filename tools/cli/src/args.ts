import { parseArgs } from 'node:util';
import { UsageError } from './errors.ts';

/** Every option any command takes; each command lists which of its own it accepts. */
const options = {
  json: { type: 'boolean' },
  nats: { type: 'string' },
  creds: { type: 'string' },
  'timeout-ms': { type: 'string' },
  'wait-ms': { type: 'string' },
  follow: { type: 'boolean', short: 'f' },
  limit: { type: 'string', short: 'n' },
  force: { type: 'boolean' },
  'deadline-ms': { type: 'string' },
  'max-streams': { type: 'string' },
  source: { type: 'string' },
  group: { type: 'string' },
  image: { type: 'string' },
  host: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;
type OptionName = keyof typeof options;

const common: OptionName[] = ['json', 'nats', 'creds', 'timeout-ms', 'help'];

interface CommandSpec {
  /** Positional arguments, `<required>` or `[optional]`, as the usage shows them. */
  args: string[];
  options: OptionName[];
  summary: string;
}

export const commands = {
  status: {
    args: [],
    options: ['wait-ms'],
    summary: "the manager's view, and services that answer",
  },
  engines: {
    args: ['[upgrade]'],
    options: ['image', 'host'],
    summary: 'engines; upgrade: replace each in turn',
  },
  streams: { args: [], options: ['wait-ms'], summary: 'the streams every edge proxy plays' },
  events: {
    args: [],
    options: ['follow', 'limit'],
    summary: 'the last N events; --follow waits for more',
  },
  drain: {
    args: ['<engine>'],
    options: ['deadline-ms'],
    summary: 'move its streams away, then remove it',
  },
  remove: {
    args: ['<engine>'],
    options: ['force'],
    summary: 'remove it (--force: do not move streams)',
  },
  stop: { args: ['<stream>'], options: ['wait-ms'], summary: 'end a stream (full id or unique prefix)' },
  provision: { args: ['[n]'], options: [], summary: 'start n engines (default 1), wait for ready' },
  micro: {
    args: ['ls|info|stats', '[service]'],
    options: ['wait-ms'],
    summary: '$SRV.PING|INFO|STATS, like nats micro',
  },
  channels: {
    args: ['import|ls|rm', '[what]'],
    options: ['source', 'group'],
    summary: 'import an M3U file or URL, list, remove',
  },
  tokens: {
    args: ['add|ls|revoke', '[name]'],
    options: ['max-streams'],
    summary: 'player tokens: add prints the token once',
  },
  sessions: { args: [], options: ['wait-ms'], summary: 'who watches what, on every proxy' },
} as const satisfies Record<string, CommandSpec>;
export type CommandName = keyof typeof commands;

export const microVerbs = ['ls', 'info', 'stats'] as const;
export type MicroVerb = (typeof microVerbs)[number];
export const channelVerbs = ['import', 'ls', 'rm'] as const;
export const tokenVerbs = ['add', 'ls', 'revoke'] as const;

/** `verb` is one of `verbs`; `needsTarget`: the verbs that want the second argument (and the only ones taking it). */
function checkVerb(
  command: string,
  [verb, target]: string[],
  verbs: readonly string[],
  needsTarget: readonly string[],
): void {
  if (!verbs.includes(verb!)) throw new UsageError(`${command} wants ${verbs.join(', ')}, not "${verb}"`);
  if (needsTarget.includes(verb!) && target === undefined)
    throw new UsageError(`${command} ${verb} wants ${command === 'tokens' ? 'a name' : 'what to ' + verb}`);
  if (!needsTarget.includes(verb!) && target !== undefined)
    throw new UsageError(`${command} ${verb}: unexpected "${target}"`);
}

/** Checks of positional arguments beyond their count, made before anything connects. */
const positionalChecks: Partial<Record<CommandName, (positionals: string[]) => void>> = {
  provision: ([n]) => void integer('n', n, 1, 20),
  engines: ([verb]) => {
    if (verb !== undefined && verb !== 'upgrade')
      throw new UsageError(`engines wants upgrade, not "${verb}"`);
  },
  micro: ([verb]) => {
    if (!microVerbs.includes(verb as MicroVerb))
      throw new UsageError(`micro wants ls, info or stats, not "${verb}"`);
  },
  // `channels rm` takes a channel or --source (checked with the options, in parseCommandLine).
  channels: (p) => checkVerb('channels', p, channelVerbs, ['import']),
  tokens: (p) => checkVerb('tokens', p, tokenVerbs, ['add', 'revoke']),
};

export interface ParsedArgs {
  command: CommandName | undefined;
  positionals: string[];
  help: boolean;
  json: boolean;
  nats: string | undefined;
  creds: string | undefined;
  timeoutMs: number | undefined;
  waitMs: number;
  follow: boolean;
  limit: number;
  force: boolean;
  deadlineMs: number | undefined;
  maxStreams: number | undefined;
  source: string | undefined;
  group: string | undefined;
  image: string | undefined;
  host: string | undefined;
}

function isCommand(name: string | undefined): name is CommandName {
  return name !== undefined && Object.hasOwn(commands, name);
}

function integer(
  name: string,
  raw: string | undefined,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
    throw new UsageError(`${name} wants a whole number ${range}, not "${raw}"`);
  }
  return n;
}

/** Parse the command line; anything wrong is a UsageError naming what. */
export function parseCommandLine(argv: string[]): ParsedArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message.split('\n')[0]! : 'bad command line');
  }
  const { values } = parsed;
  const [name, ...positionals] = parsed.positionals;
  if (name !== undefined && !isCommand(name)) throw new UsageError(`unknown command "${name}"`);
  const help = values.help ?? false;
  if (name && !help) {
    const spec: CommandSpec = commands[name];
    const allowed = new Set<string>([...common, ...spec.options]);
    const stray = Object.keys(values).find((k) => !allowed.has(k));
    if (stray) throw new UsageError(`${name} takes no --${stray}`);
    const required = spec.args.filter((a) => !a.startsWith('[')).length;
    if (positionals.length < required) throw new UsageError(`${name} wants ${spec.args.join(' ')}`);
    if (positionals.length > spec.args.length)
      throw new UsageError(`${name}: unexpected "${positionals[spec.args.length]}"`);
    if (name === 'engines' && positionals[0] !== 'upgrade' && (values.image ?? values.host) !== undefined)
      throw new UsageError('--image and --host go with engines upgrade');
    if (!(name === 'channels' && positionals[0] === 'rm')) positionalChecks[name]?.(positionals);
    else if ((positionals[1] === undefined) === (values.source === undefined))
      throw new UsageError('channels rm wants a channel (name or id), or --source <source>, not both');
  }
  return {
    command: name,
    positionals,
    help,
    json: values.json ?? false,
    nats: values.nats,
    creds: values.creds,
    timeoutMs: integer('--timeout-ms', values['timeout-ms'], 1),
    waitMs: integer('--wait-ms', values['wait-ms'], 1) ?? 1000,
    follow: values.follow ?? false,
    limit: integer('--limit', values.limit, 1) ?? 20,
    force: values.force ?? false,
    deadlineMs: integer('--deadline-ms', values['deadline-ms'], 0),
    maxStreams: integer('--max-streams', values['max-streams'], 1, 10_000),
    source: values.source,
    group: values.group,
    image: values.image,
    host: values.host,
  };
}

/** The help text: fits in 80 columns. */
export function usage(command?: CommandName): string {
  if (command) {
    const spec: CommandSpec = commands[command];
    const opts = [...spec.options, ...common].map((o) => `--${o}`).join(' ');
    return `usage: acefleet ${command} ${spec.args.join(' ')}\n  ${spec.summary}\n  options: ${opts}\n`;
  }
  const lines = Object.entries(commands).map(
    ([name, spec]) => `  ${`${name} ${spec.args.join(' ')}`.padEnd(32)}${spec.summary}`,
  );
  return [
    'usage: acefleet <command> [options]',
    '',
    'commands:',
    ...lines,
    '',
    'options:',
    '  --json              machine output (events: one JSON object per line)',
    '  --nats <url>        NATS server, nats://[user:password@]host:port',
    '  --creds <file>      credentials: a NATS URL line, or NATS_USER=/NATS_PASSWORD=',
    '                      (and NATS_URL=) lines; default .run/operator.nats-url',
    '  --timeout-ms <ms>   how long to wait for a reply (provision: 120000,',
    '                      engines upgrade: 3600000)',
    '  --wait-ms <ms>      how long to collect service replies (default 1000)',
    '  -f, --follow        events: keep printing new events until interrupted',
    '  -n, --limit <n>     events: how many recent events (default 20)',
    '  --deadline-ms <ms>  drain: time the streams have to move',
    '  --force             remove: do not wait for streams to move',
    '  --max-streams <n>   tokens add: streams the token may play at once (8)',
    '  --source <source>   channels rm: every channel of this playlist source',
    '  --group <group>     channels ls: only this group',
    '  --image <image>     engines upgrade: the image new engines get (pinned tag)',
    '  --host <host>       engines upgrade: only this host (default: every host)',
    '',
    'exit codes: 0 ok, 1 operation failed, 2 usage error,',
    '            3 NATS unreachable or login refused',
    '',
  ].join('\n');
}
