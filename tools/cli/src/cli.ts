import { parseCommandLine, usage, type CommandName } from './args.ts';
import { connectTarget } from './connection.ts';
import { resolveTarget } from './credentials.ts';
import { ExitCodes, asCliError, type ExitCode } from './errors.ts';
import type { Command, Output } from './context.ts';
import { drain, provision, remove } from './commands/admin.ts';
import { events } from './commands/events.ts';
import { engines, status } from './commands/fleet.ts';
import { micro } from './commands/micro.ts';
import { stop, streams } from './commands/streams.ts';

const handlers: Record<CommandName, Command> = {
  status,
  engines,
  streams,
  events,
  drain,
  remove,
  stop,
  provision,
  micro,
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
    const nc = await connectTarget(target);
    const out: Output = {
      json: args.json,
      width: io.stdout.isTTY && io.stdout.columns ? io.stdout.columns : 80,
      write: (text) => void io.stdout.write(text),
    };
    try {
      await handlers[args.command]({ nc, args, out, signal: io.signal });
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
