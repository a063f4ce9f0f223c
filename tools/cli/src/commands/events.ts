import { DeliverPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import { EVENTS_STREAM, PREFIX } from '@acefleet/contracts';
import { CliError, ExitCodes } from '../errors.ts';
import type { Command, Output } from '../context.ts';

/** Fields left out of an event's text line: timestamps (the line has one) and long URLs. */
const quiet = new Set(['at', 'startedAt', 'endedAt', 'deadline', 'statUrl', 'claims']);

function summary(data: unknown): string {
  if (typeof data !== 'object' || data === null) return String(data);
  return Object.entries(data)
    .filter(([key, value]) => !quiet.has(key) && value !== null && value !== undefined)
    .map(([key, value]) => {
      if (typeof value !== 'object') return `${key}=${String(value)}`;
      const ref = value as { kind?: unknown; value?: unknown };
      return typeof ref.kind === 'string' && typeof ref.value === 'string'
        ? `${key}=${ref.kind}:${ref.value.slice(0, 12)}`
        : `${key}=${JSON.stringify(value)}`;
    })
    .join(' ');
}

function decode(m: JsMsg): unknown {
  try {
    return m.json();
  } catch {
    return m.string();
  }
}

/** One line per event: NDJSON with --json, else `time  type  key=value …` cut to the width. */
function print(out: Output, m: JsMsg): void {
  const data = decode(m);
  const time = m.time.toISOString();
  if (out.json) {
    out.write(`${JSON.stringify({ seq: m.seq, subject: m.subject, time, data })}\n`);
    return;
  }
  const type = m.subject.slice(`${PREFIX}.events.`.length);
  const line = `${time.slice(11, 19)}  ${type.padEnd(17)}  ${summary(data)}`;
  out.write(`${line.length > out.width ? `${line.slice(0, out.width - 1)}…` : line}\n`);
}

/**
 * `events [-n N] [--follow]`: the last N durable events through an ordered consumer on the events
 * stream; with --follow it then waits for new ones until interrupted.
 */
export const events: Command = async (ctx) => {
  const info = await (await jetstreamManager(ctx.nc)).streams.info(EVENTS_STREAM).catch((err: unknown) => {
    throw new CliError(ExitCodes.failed, `no events stream ${EVENTS_STREAM}`, { cause: err });
  });
  const last = info.state.last_seq;
  if (!ctx.args.follow && info.state.messages === 0) return;
  const consumer = await jetstream(ctx.nc).consumers.get(EVENTS_STREAM, {
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: Math.max(info.state.first_seq, last - ctx.args.limit + 1, 1),
  });
  const messages = await consumer.consume();
  if (ctx.signal.aborted) await messages.close();
  const stop = (): void => void messages.close();
  ctx.signal.addEventListener('abort', stop, { once: true });
  try {
    for await (const m of messages) {
      print(ctx.out, m);
      if (!ctx.args.follow && m.seq >= last) break;
    }
  } finally {
    ctx.signal.removeEventListener('abort', stop);
    await messages.close();
  }
};
