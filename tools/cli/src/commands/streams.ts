import {
  ProxyStreamsReply,
  ServiceNames,
  StopStreamReply,
  proxySubject,
  type ProxyStream,
} from '@acefleet/contracts';
import { requestJson } from '@acefleet/platform';
import { channelNames } from '../channel-names.ts';
import { CliError, ExitCodes } from '../errors.ts';
import { bytes, duration } from '../format.ts';
import { collectServices } from '../micro-client.ts';
import { renderTable, type Column } from '../table.ts';
import { replyTimeout, writeJson, type Command, type CommandContext } from '../context.ts';

type FleetStream = ProxyStream & { proxyId: string; channel?: string };

/** Every stream of every edge proxy that answers $SRV.PING, asked through its own `streams` endpoint. */
async function fleetStreams(ctx: CommandContext): Promise<{ proxies: number; streams: FleetStream[] }> {
  const proxies = await collectServices(ctx.nc, 'ping', ctx.args.waitMs, ServiceNames.edgeProxy);
  const ids = proxies.map((p) => p.metadata?.instance).filter((id): id is string => Boolean(id));
  const replies = await Promise.all(
    ids.map(async (proxyId) => {
      const r = await requestJson(
        ctx.nc,
        proxySubject(proxyId, 'streams'),
        {},
        ProxyStreamsReply,
        replyTimeout(ctx),
      );
      return [...r.streams, ...r.hls].map((s) => ({ ...s, proxyId }));
    }),
  );
  return { proxies: ids.length, streams: replies.flat() };
}

const columns: Column<FleetStream>[] = [
  { header: 'STREAM', value: (s) => s.streamId, shrink: 'end' },
  { header: 'KIND', value: (s) => s.kind },
  { header: 'CHANNEL', value: (s) => s.channel ?? '', shrink: 'end' },
  { header: 'STATE', value: (s) => s.state ?? '' },
  { header: 'CLIENTS', value: (s) => String(s.clients), align: 'right' },
  { header: 'ENGINE', value: (s) => s.engineId ?? '-', shrink: 'middle' },
  { header: 'PROXY', value: (s) => s.proxyId, shrink: 'end' },
  { header: 'AGE', value: (s) => duration(s.ageMs), align: 'right' },
  { header: 'OUT', value: (s) => bytes(s.bytesOut), align: 'right' },
];

/** `streams`: what every proxy plays now. */
export const streams: Command = async (ctx) => {
  const [{ streams: found }, nameOf] = await Promise.all([fleetStreams(ctx), channelNames(ctx.nc)]);
  const all = found.map((s) => ({ ...s, channel: nameOf(s.content) }));
  if (ctx.out.json) writeJson(ctx.out, { streams: all });
  else ctx.out.write(renderTable(all, columns, ctx.out.width));
};

/** `stop <stream>`: the proxy playing it (found by full id or unique prefix) ends it with reason `stopped`. */
export const stop: Command = async (ctx) => {
  const [wanted] = ctx.args.positionals as [string];
  const { proxies, streams: all } = await fleetStreams(ctx);
  const exact = all.filter((s) => s.streamId === wanted);
  const matches = exact.length ? exact : all.filter((s) => s.streamId.startsWith(wanted));
  if (matches.length === 0) throw new CliError(ExitCodes.failed, `no stream ${wanted} on ${proxies} proxies`);
  if (matches.length > 1)
    throw new CliError(ExitCodes.failed, `${wanted} matches ${matches.length} streams: give more of the id`);
  const { streamId, proxyId } = matches[0]!;
  const subject = proxySubject(proxyId, 'stop');
  const reply = await requestJson(ctx.nc, subject, { streamId }, StopStreamReply, replyTimeout(ctx));
  if (ctx.out.json) writeJson(ctx.out, { ...reply, proxyId });
  else ctx.out.write(`stream ${streamId} stopped on proxy ${proxyId}\n`);
};
