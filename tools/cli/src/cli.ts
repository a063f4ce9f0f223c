import { parseCommandLine, usage, type CommandName } from './args.ts';
import { resolveTarget } from './credentials.ts';
import { ExitCodes, asCliError, type ExitCode } from './errors.ts';
import type { Command, Output } from './context.ts';

/** Loaded on use, so `--help` and usage errors answer without loading NATS and the commands. */
const handlers: Record<CommandName, () => Promise<Command>> = {
  status: async () => (await import('./commands/fleet.ts')).status,
  engines: async () => (await import('./commands/fleet.ts')).engines,
  streams: async () => (await import('./commands/streams.ts')).streams,
  stop: async () => (await import('./commands/streams.ts')).stop,
  events: async () => (await import('./commands/events.ts')).events,
  drain: async () => (await import('./commands/admin.ts')).drain,
  remove: async () => (await import('./commands/admin.ts')).remove,
  provision: async () => (await import('./commands/admin.ts')).provision,
  micro: async () => (await import('./commands/micro.ts')).micro,
  channels: async () => (await import('./commands/channels.ts')).channels,
  tokens: async () => (await import('./commands/tokens.ts')).tokens,
  sessions: async () => (await import('./commands/sessions.ts')).sessions,
};

export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream;
  cwd: string;
  signal: AbortSignal;
}

/** Run one command line; every failure ends as one line on stderr and the exit code it means. */
export async function run(argv: string[], io: Io): Promise<ExitCode> {
  try {
    const args = parseCommandLine(argv);
    if (!args.command || args.help) {
      (args.help ? io.stdout : io.stderr).write(usage(args.command));
      return args.help ? ExitCodes.ok : ExitCodes.usage;
    }
    const target = resolveTarget({ nats: args.nats, creds: args.creds, cwd: io.cwd });
    const [command, { connectTarget }] = await Promise.all([
      handlers[args.command](),
      import('./connection.ts'),
    ]);
    const nc = await connectTarget(target);
    const out: Output = {
      json: args.json,
      width: io.stdout.isTTY && io.stdout.columns ? io.stdout.columns : 80,
      write: (text) => void io.stdout.write(text),
    };
    try {
      await command({ nc, args, out, signal: io.signal });
    } finally {
      await nc.close();
    }
    return ExitCodes.ok;
  } catch (err) {
    const failure = asCliError(err);
    io.stderr.write(`acefleet: ${failure.message}\n`);
    return failure.exitCode;
  }
}
