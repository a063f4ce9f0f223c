import type { TokenInfo } from '@acefleet/contracts';
import { addToken, listTokens, openTokensKv, revokeToken } from '@acefleet/player-tokens';
import { age } from '../format.ts';
import { renderTable, type Column } from '../table.ts';
import { writeJson, type Command } from '../context.ts';

const columns: Column<TokenInfo>[] = [
  { header: 'NAME', value: (t) => t.name },
  { header: 'MAX STREAMS', value: (t) => String(t.maxStreams), align: 'right' },
  { header: 'AGE', value: (t) => age(t.createdAt), align: 'right' },
];

/**
 * `tokens add NAME [--max-streams N]` (prints the token, the only time it is shown), `tokens ls`,
 * `tokens revoke NAME` (every proxy refuses it within a second).
 */
export const tokens: Command = async (ctx) => {
  const [verb, name] = ctx.args.positionals as [string, string | undefined];
  const kv = await openTokensKv(ctx.nc);
  if (verb === 'add') {
    const reply = await addToken(kv, {
      name: name!,
      ...(ctx.args.maxStreams === undefined ? {} : { maxStreams: ctx.args.maxStreams }),
    });
    if (ctx.out.json) writeJson(ctx.out, reply);
    else
      ctx.out.write(
        `token ${reply.name} (at most ${reply.maxStreams} streams at once); it is not shown again:\n${reply.token}\n`,
      );
  } else if (verb === 'ls') {
    const all = await listTokens(kv);
    if (ctx.out.json) writeJson(ctx.out, { tokens: all });
    else ctx.out.write(renderTable(all, columns, ctx.out.width));
  } else {
    const revoked = await revokeToken(kv, name!);
    if (ctx.out.json) writeJson(ctx.out, revoked);
    else ctx.out.write(`token ${revoked.name} revoked\n`);
  }
};
