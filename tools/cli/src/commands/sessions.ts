import { ProxyPlayersReply, ServiceNames, proxySubject } from '@acefleet/contracts';
import { requestJson } from '@acefleet/platform';
import { channelNames } from '../channel-names.ts';
import { bytes, duration } from '../format.ts';
import { collectServices } from '../micro-client.ts';
import { renderTable, type Column } from '../table.ts';
import { replyTimeout, writeJson, type Command } from '../context.ts';

type Session = ProxyPlayersReply['players'][number] & { channel: string };

const columns: Column<Session>[] = [
  { header: 'WHO', value: (s) => s.player.token ?? s.player.address, shrink: 'end' },
  { header: 'CHANNEL', value: (s) => s.channel, shrink: 'end' },
  { header: 'KIND', value: (s) => s.kind },
  { header: 'SINCE', value: (s) => duration(Date.now() - Date.parse(s.startedAt)), align: 'right' },
  { header: 'OUT', value: (s) => bytes(s.bytesOut), align: 'right' },
  { header: 'PLAYER', value: (s) => s.player.userAgent, shrink: 'end' },
];

/** `sessions`: every player of every edge proxy: who (token name or address), which channel, since when, bytes. */
export const sessions: Command = async (ctx) => {
  const proxies = await collectServices(ctx.nc, 'ping', ctx.args.waitMs, ServiceNames.edgeProxy);
  const ids = proxies.map((p) => p.metadata?.instance).filter((id): id is string => Boolean(id));
  const [nameOf, replies] = await Promise.all([
    channelNames(ctx.nc),
    Promise.all(
      ids.map((id) =>
        requestJson(ctx.nc, proxySubject(id, 'players'), {}, ProxyPlayersReply, replyTimeout(ctx)),
      ),
    ),
  ]);
  const all: Session[] = replies
    .flatMap((r) => r.players)
    .map((p) => ({ ...p, channel: nameOf(p.content) }))
    .sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  if (ctx.out.json) writeJson(ctx.out, { sessions: all });
  else ctx.out.write(renderTable(all, columns, ctx.out.width));
};
