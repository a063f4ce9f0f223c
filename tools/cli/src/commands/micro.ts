import type { ServiceIdentity, ServiceInfo, ServiceStats } from '@nats-io/services';
import { CliError, ExitCodes } from '../errors.ts';
import { collectServices, serviceName, type Verb } from '../micro-client.ts';
import { renderTable, type Column } from '../table.ts';
import { writeJson, type Command, type CommandContext } from '../context.ts';
import type { MicroVerb } from '../args.ts';

const identity: Column<ServiceIdentity>[] = [
  { header: 'NAME', value: (s) => s.name },
  { header: 'ID', value: (s) => s.id },
  { header: 'VERSION', value: (s) => s.version },
  { header: 'INSTANCE', value: (s) => s.metadata?.instance ?? '', shrink: 'end' },
];

function infoText(s: ServiceInfo, width: number): string {
  const meta = Object.entries(s.metadata ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const rows = s.endpoints.map((e) => ({ name: e.name, subject: e.subject, queue: e.queue_group ?? '' }));
  const endpoints = renderTable(
    rows,
    [
      { header: '  ENDPOINT', value: (e) => `  ${e.name}`, shrink: 'end' },
      { header: 'SUBJECT', value: (e) => e.subject, shrink: 'end' },
      { header: 'QUEUE', value: (e) => e.queue },
    ],
    width,
  );
  return `${s.name} ${s.id} ${s.version}\n  ${s.description}\n  ${meta}\n${endpoints}`;
}

interface EndpointRow {
  service: string;
  id: string;
  endpoint: string;
  requests: number;
  errors: number;
  averageMs: number;
}

const statsColumns: Column<EndpointRow>[] = [
  { header: 'SERVICE', value: (r) => r.service, shrink: 'end' },
  { header: 'ID', value: (r) => r.id, shrink: 'middle' },
  { header: 'ENDPOINT', value: (r) => r.endpoint },
  { header: 'REQUESTS', value: (r) => String(r.requests), align: 'right' },
  { header: 'ERRORS', value: (r) => String(r.errors), align: 'right' },
  { header: 'AVG MS', value: (r) => r.averageMs.toFixed(1), align: 'right' },
];

function statsRows(all: ServiceStats[]): EndpointRow[] {
  return all.flatMap((s) =>
    (s.endpoints ?? []).map((e) => ({
      service: s.name,
      id: s.id,
      endpoint: e.name,
      requests: e.num_requests,
      errors: e.num_errors,
      averageMs: e.average_processing_time / 1e6,
    })),
  );
}

async function collect<V extends Verb>(ctx: CommandContext, verb: V, name: string | undefined) {
  const replies = await collectServices(ctx.nc, verb, ctx.args.waitMs, name);
  if (replies.length === 0) {
    const who = name ? serviceName(name) : 'micro service';
    throw new CliError(ExitCodes.failed, `no ${who} answered within ${ctx.args.waitMs} ms`);
  }
  return replies;
}

/** `micro ls|info|stats [service]`: the nats CLI's micro view, for people without the nats CLI. */
export const micro: Command = async (ctx) => {
  const [verb, name] = ctx.args.positionals as [MicroVerb, string | undefined];
  const { out } = ctx;
  if (verb === 'ls') {
    const all = await collect(ctx, 'ping', name);
    if (out.json) writeJson(out, all);
    else out.write(renderTable(all, identity, out.width));
  } else if (verb === 'info') {
    const all = await collect(ctx, 'info', name);
    if (out.json) writeJson(out, all);
    else out.write(all.map((s) => infoText(s, out.width)).join('\n'));
  } else {
    const all = await collect(ctx, 'stats', name);
    if (out.json) writeJson(out, all);
    else out.write(renderTable(statsRows(all), statsColumns, out.width));
  }
};
