import { DrainReply, ProvisionReply, Subjects, type EngineRecord } from '@acefleet/contracts';
import { requestJson } from '@acefleet/platform';
import { duration } from '../format.ts';
import { replyTimeout, writeJson, type Command, type CommandContext } from '../context.ts';
import { writeEngines } from './fleet.ts';

/** Provisioning waits for the engines to be ready: give it much longer than a plain request. */
const PROVISION_TIMEOUT_MS = 120_000;

function report(ctx: CommandContext, engine: EngineRecord, what: string): void {
  if (ctx.out.json) writeJson(ctx.out, { engine });
  else ctx.out.write(`engine ${engine.id} ${what}\n`);
}

function untilDeadline(engine: EngineRecord): string {
  return engine.drainDeadline ? duration(Date.parse(engine.drainDeadline) - Date.now()) : '?';
}

/** `drain <engine>`: no new claims; its streams move elsewhere, then it is removed (or at the deadline). */
export const drain: Command = async (ctx) => {
  const [engineId] = ctx.args.positionals as [string];
  const request = {
    engineId,
    ...(ctx.args.deadlineMs === undefined ? {} : { deadlineMs: ctx.args.deadlineMs }),
  };
  const { engine } = await requestJson(ctx.nc, Subjects.engineDrain, request, DrainReply, replyTimeout(ctx));
  report(
    ctx,
    engine,
    `draining: ${engine.claims.length} claims to move, removed in ${untilDeadline(engine)} at most`,
  );
};

/** `remove <engine> [--force]`: drain then remove; with --force at once, its streams end. */
export const remove: Command = async (ctx) => {
  const [engineId] = ctx.args.positionals as [string];
  const force = ctx.args.force;
  const { engine } = await requestJson(
    ctx.nc,
    Subjects.engineRemove,
    { engineId, force },
    DrainReply,
    replyTimeout(ctx),
  );
  report(ctx, engine, force ? 'removed' : `removed once its ${engine.claims.length} claims move`);
};

/** `provision [n]`: start n engines (1 by default) and print them once ready. */
export const provision: Command = async (ctx) => {
  const count = Number(ctx.args.positionals[0] ?? 1);
  const timeout = replyTimeout(ctx, PROVISION_TIMEOUT_MS);
  const reply = await requestJson(ctx.nc, Subjects.engineProvision, { count }, ProvisionReply, timeout);
  writeEngines(ctx.out, reply.engines);
};
