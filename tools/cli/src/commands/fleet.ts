import { ListReply, ServiceNames, StatusReply, Subjects, type EngineRecord } from '@acefleet/contracts';
import { requestJson } from '@acefleet/platform';
import { CliError, ExitCodes, asCliError } from '../errors.ts';
import { age } from '../format.ts';
import { collectServices } from '../micro-client.ts';
import { upgrade } from './upgrade.ts';
import { renderTable, type Column } from '../table.ts';
import { replyTimeout, writeJson, type Command, type Output } from '../context.ts';

const engineColumns: Column<EngineRecord>[] = [
  { header: 'ENGINE', value: (e) => e.id },
  { header: 'STATE', value: (e) => e.state },
  { header: 'CLAIMS', value: (e) => `${e.claims.length}/${e.capacity}`, align: 'right' },
  // Of CLAIMS, the hot standbys: sessions a proxy keeps ready to switch to, given up first for a new channel.
  { header: 'STANDBY', value: (e) => String(e.claims.filter((c) => c.standby).length), align: 'right' },
  { header: 'AGE', value: (e) => age(e.createdAt), align: 'right' },
  { header: 'URL', value: (e) => e.baseUrl, shrink: 'end' },
  { header: 'REASON', value: (e) => e.stateReason ?? '', shrink: 'end' },
];

export function writeEngines(out: Output, engines: readonly EngineRecord[]): void {
  if (out.json) writeJson(out, { engines });
  else out.write(renderTable(engines, engineColumns, out.width));
}

/** `engines`: every engine the manager knows, from acefleet.engines.list; `engines upgrade`: upgrade.ts. */
export const engines: Command = async (ctx) => {
  if (ctx.args.positionals[0] === 'upgrade') return upgrade(ctx);
  const reply = await requestJson(ctx.nc, Subjects.engineList, {}, ListReply, replyTimeout(ctx));
  writeEngines(ctx.out, reply.engines);
};

function managerLines(s: StatusReply): string[] {
  const byState = Object.entries(s.engines.byState)
    .map(([state, n]) => `${n} ${state}`)
    .join(', ');
  const l = s.limits;
  const b = s.breaker;
  return [
    `host       ${s.hostId}`,
    `engines    ${s.engines.total} (${byState || 'none'}), ${s.engines.free} free, ${s.claims} claims`,
    `limits     min ${l.minReplicas}, min free ${l.minFreeReplicas}, max ${l.maxReplicas}, ${l.maxStreamsPerEngine} streams/engine`,
    `provision  ${s.canProvision ? 'yes' : `no: ${s.reason ?? 'refused'}`}`,
    `breaker    ${b.state}${b.consecutiveFailures ? `, ${b.consecutiveFailures} failures` : ''}`,
    ...(s.vpn
      ? [`vpn        ${s.vpn.up ? 'up' : `down: ${s.vpn.reason ?? ''}`}, port ${s.vpn.forwardedPort}`]
      : []),
  ];
}

interface ServiceRow {
  name: string;
  id: string;
  version: string;
  instance: string;
  http: string;
}

const serviceColumns: Column<ServiceRow>[] = [
  { header: 'SERVICE', value: (s) => s.name },
  { header: 'INSTANCE', value: (s) => s.instance, shrink: 'end' },
  { header: 'VERSION', value: (s) => s.version },
  { header: 'HTTP', value: (s) => s.http, shrink: 'end' },
];

/**
 * `status`: the manager's view of the fleet (acefleet.engines.status) and which acefleet services answer
 * $SRV.PING. Fails (exit 1) when the manager does not answer, after printing what it found.
 */
export const status: Command = async (ctx) => {
  const [manager, pings] = await Promise.all([
    requestJson(ctx.nc, Subjects.engineStatus, {}, StatusReply, replyTimeout(ctx)).catch(asCliError),
    collectServices(ctx.nc, 'ping', ctx.args.waitMs),
  ]);
  const services: ServiceRow[] = pings.map((p) => ({
    name: p.name,
    id: p.id,
    version: p.version,
    instance: p.metadata?.instance ?? '',
    http: p.metadata?.http ?? '',
  }));
  const present = new Set(services.map((s) => s.name));
  const missing = Object.values(ServiceNames).filter((n) => !present.has(n));
  const ok = !(manager instanceof CliError);
  if (ctx.out.json) {
    writeJson(ctx.out, { manager: ok ? manager : null, services, missing });
  } else {
    const head = ok ? managerLines(manager) : [`manager    no answer: ${manager.message}`];
    const tail = missing.length ? `missing: ${missing.join(', ')}\n` : '';
    ctx.out.write(`${head.join('\n')}\n\n${renderTable(services, serviceColumns, ctx.out.width)}${tail}`);
  }
  if (!ok) throw new CliError(ExitCodes.failed, `engine-manager did not answer: ${manager.message}`);
};
