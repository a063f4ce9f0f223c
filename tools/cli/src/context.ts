import type { NatsConnection } from '@nats-io/nats-core';
import type { ParsedArgs } from './args.ts';

/** Where a command writes: JSON for machines, or text at most `width` columns wide. */
export interface Output {
  json: boolean;
  width: number;
  write(text: string): void;
}

export interface CommandContext {
  nc: NatsConnection;
  args: ParsedArgs;
  out: Output;
  /** Aborted on SIGINT/SIGTERM: long-running commands (events --follow) stop and exit 0. */
  signal: AbortSignal;
}

export type Command = (ctx: CommandContext) => Promise<void>;

/** How long a command waits for a reply: --timeout-ms, else the command's own default. */
export function replyTimeout(ctx: CommandContext, defaultMs = 10_000): number {
  return ctx.args.timeoutMs ?? defaultMs;
}

export function writeJson(out: Output, value: unknown): void {
  out.write(`${JSON.stringify(value, null, 2)}\n`);
}
