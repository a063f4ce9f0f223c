import { Subjects, UpgradeReply, type UpgradeRequest } from '@acefleet/contracts';
import { requestJson } from '@acefleet/platform';
import { CliError, ExitCodes } from '../errors.ts';
import { duration } from '../format.ts';
import { replyTimeout, writeJson, type Command } from '../context.ts';

/**
 * The manager answers once every engine is replaced (each: a new one ready, the old one drained and gone),
 * so wait as long as a large fleet may take; --timeout-ms shortens it (the upgrade goes on regardless).
 */
const UPGRADE_TIMEOUT_MS = 3_600_000;

/** `engines upgrade [--image I] [--host H]`: replace every engine one at a time, make-before-break. */
export const upgrade: Command = async (ctx) => {
  const request: UpgradeRequest = {
    ...(ctx.args.image === undefined ? {} : { image: ctx.args.image }),
    ...(ctx.args.host === undefined ? {} : { hostId: ctx.args.host }),
  };
  const timeout = replyTimeout(ctx, UPGRADE_TIMEOUT_MS);
  const reply = await requestJson(ctx.nc, Subjects.engineUpgrade, request, UpgradeReply, timeout);
  if (ctx.out.json) writeJson(ctx.out, reply);
  else {
    for (const r of reply.replaced) ctx.out.write(`${r.from} → ${r.to}  ${duration(r.tookMs)}\n`);
    if (!reply.error) ctx.out.write(`${summary(reply)}\n`);
  }
  if (reply.error) {
    throw new CliError(ExitCodes.failed, `upgrade stopped: ${reply.error.message} (${reply.error.code})`);
  }
};

function summary(reply: UpgradeReply): string {
  const image = reply.image ? ` to ${reply.image}` : '';
  const skipped = reply.skipped.length > 0 ? `, ${reply.skipped.length} already on it` : '';
  const hosts = reply.hosts.join(', ') || 'none';
  return `${reply.replaced.length} engines replaced${image} (hosts: ${hosts}) in ${duration(reply.tookMs)}${skipped}`;
}
