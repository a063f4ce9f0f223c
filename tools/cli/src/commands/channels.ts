import type { ChannelRecord, ImportReport } from '@acefleet/contracts';
import {
  importSource,
  openChannelsKv,
  readChannels,
  readSources,
  removeChannels,
  sourceName,
} from '@acefleet/channels';
import { renderTable, type Column } from '../table.ts';
import { writeJson, type Command, type CommandContext } from '../context.ts';

/** What a playlist or a download may be at most, and how long it may take (the proxy's defaults). */
const SOURCE_LIMITS = { timeoutMs: 15_000, maxBytes: 16 * 1024 * 1024, userAgent: 'acefleet-cli' };

const columns: Column<ChannelRecord>[] = [
  { header: 'NO', value: (c) => String(c.number), align: 'right' },
  { header: 'NAME', value: (c) => c.name, shrink: 'end' },
  { header: 'GROUP', value: (c) => c.group ?? '', shrink: 'end' },
  { header: 'CONTENT', value: (c) => `${c.content.kind}:${c.content.value}` },
];

function summary(report: ImportReport): string {
  const imported = report.added + report.updated + report.unchanged;
  const lines = [
    `imported ${imported} channels from ${report.source}: ${report.added} added, ${report.updated} updated, ` +
      `${report.unchanged} unchanged, ${report.removed} removed, ${report.skipped.length} skipped`,
    ...report.skipped.map((s) => `  line ${s.line}: ${s.reason}`),
    ...report.guideUrls.map((g) => `  guide: ${g}`),
  ];
  return `${lines.join('\n')}\n`;
}

async function importOne(ctx: CommandContext, source: string): Promise<void> {
  await openChannelsKv(ctx.nc);
  const report = await importSource(ctx.nc, source, SOURCE_LIMITS);
  if (ctx.out.json) writeJson(ctx.out, report);
  else ctx.out.write(summary(report));
}

async function list(ctx: CommandContext): Promise<void> {
  await openChannelsKv(ctx.nc);
  const group = ctx.args.group?.toLowerCase();
  const channels = [...(await readChannels(ctx.nc)).values()]
    .filter((c) => group === undefined || c.group?.toLowerCase() === group)
    .sort((a, b) => a.number - b.number);
  if (ctx.out.json) {
    writeJson(ctx.out, { channels, sources: [...(await readSources(ctx.nc)).values()] });
  } else {
    ctx.out.write(renderTable(channels, columns, ctx.out.width));
  }
}

async function remove(ctx: CommandContext): Promise<void> {
  await openChannelsKv(ctx.nc);
  const [, channel] = ctx.args.positionals;
  const what = channel !== undefined ? { channel } : { source: sourceName(ctx.args.source!) };
  const removed = await removeChannels(ctx.nc, what);
  if (ctx.out.json) writeJson(ctx.out, { removed });
  else
    ctx.out.write(
      `removed ${removed.length} channels${removed.length === 1 ? `: ${removed[0]!.name}` : ''}\n`,
    );
}

/** `channels import <file|url>`, `channels ls [--group G]`, `channels rm <channel>|--source <source>`. */
export const channels: Command = async (ctx) => {
  const [verb, target] = ctx.args.positionals as [string, string | undefined];
  if (verb === 'import') await importOne(ctx, target!);
  else if (verb === 'ls') await list(ctx);
  else await remove(ctx);
};
