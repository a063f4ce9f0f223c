import { settingsLine } from '../chaos/report.ts';
import { DROP_SILENCE_MS } from '../chaos/viewers.ts';
import { scaleEnv, type ScaleOptions, type ScaleResult, type ScaleScenario } from './campaign.ts';

const cell = (v: number | undefined, unit = ''): string => (v === undefined ? '–' : `${v}${unit}`);

function row(r: ScaleScenario): string {
  if (r.skipped) return `| ${r.name} | not run: ${r.skipped} | | | | | | | | | |`;
  const dropped = `${cell(r.dropped)} / ${r.players}${r.onlyCopy ? ' (only copy)' : ''}`;
  const over = `${r.capacity.versionsOverCapacity} of ${r.capacity.versionsSeen}`;
  const measured = [
    r.electionMs === undefined ? '' : `new leaders ${r.electionMs} ms`,
    r.takeoverMs === undefined ? '' : `takeover ${r.takeoverMs} ms`,
  ]
    .filter(Boolean)
    .join(', ');
  const goal = r.met ? 'met' : `**missed**${r.error ? `: ${r.error.split('\n')[0]}` : ''}`;
  return `| ${r.name} | ${dropped} | ${cell(r.maxGapMs, ' ms')} | ${cell(r.recoveryMs, ' ms')} | ${cell(r.eventsLost)} | ${cell(r.duplicates)} | ${over} | ${cell(r.claimsLeftOver)} | ${cell(r.claimsMissing)} | ${measured || '–'} | ${goal} |`;
}

const settings = (opts: ScaleOptions): string => settingsLine(scaleEnv(opts));

/** bench/results/scale.md: the table, what each fault did, the method. */
export function scaleReport(opts: ScaleOptions, result: ScaleResult, header: string): string {
  const hosts = Object.entries(result.enginesPerHost)
    .map(([h, n]) => `${h}: ${n}`)
    .join(', ');
  const daemons = result.secondDockerd
    ? 'manager 0 (and its standby) on the default dockerd, manager 1 on a second dockerd with its own socket, data root and exec root'
    : 'both managers on the default dockerd (no second daemon could run)';
  return [
    '# Scale run',
    '',
    header,
    '',
    `${opts.streams} streams × ${opts.playersPerStream} players over ${opts.proxies} proxies; a ${opts.natsNodes}-node NATS cluster; ${opts.managers} engine-managers on hosts of their own plus a standby for manager 0; ${daemons}. Ready engines per host at the start: ${hosts}. All playing ${(result.startupMs / 1000).toFixed(1)} s after start.`,
    '',
    '| fault | players dropped | longest gap | recovery | events lost | duplicates | record versions over capacity | claims left over | claims missing | measured | goal |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...result.scenarios.map(row),
    '',
    `Claims over capacity over the whole run: ${result.capacity.versionsOverCapacity} of ${result.capacity.versionsSeen} engine record versions (most beyond capacity in one version: ${result.capacity.maxOverCapacity}); at the audits: ${result.auditOverCapacity}.`,
    '',
    `Goal per fault (issue #12): 0 players dropped (a killed proxy holds the only copy, its players' connections: every gap ≤ ${DROP_SILENCE_MS / 1000} s instead), 0 events lost, 0 duplicates, 0 claims left over or missing after recovery, no engine record ever over capacity, and the standby leading within the lease TTL (${opts.leaseTtlMs} ms) of the leader's kill.`,
    '',
    '## What happened per fault',
    '',
    ...result.scenarios.map(
      (r) =>
        `- **${r.name}**: ${r.detail || r.skipped || ''}${r.error ? ` (error: ${r.error.split('\n')[0]})` : ''}`,
    ),
    '',
    '## Method',
    '',
    '`npm run test:scale` (bench/scale.ts; `SCALE_STREAMS`, `SCALE_PLAYERS`, `SCALE_PAUSE_MS`, `SCALE_FAULTS` = comma-separated substrings of fault names).',
    '',
    `- **NATS**: libs/testkit \`startNatsCluster\`, ${opts.natsNodes} nats-servers routed on loopback, each with JetStream and acefleet's users. Every service gets the comma list of all nodes as NATS_URL and JS_REPLICAS=${Math.min(3, opts.natsNodes)}, so ACEFLEET_EVENTS, KV_acefleet-engines and KV_acefleet-leaders have a replica on each node.`,
    "- **Stack**: libs/testkit `startStack` with that cluster: each service a real process; manager 1 added with `stack.add` (its own HOST_ID, engine port block and, when it runs, `DOCKER_SOCKET=/run/docker2.sock`), the standby with `stack.addStandby(0)` (manager 0's HOST_ID, Docker and port range, its own INSTANCE_ID). The second dockerd (bench/scale/second-docker.ts) runs with `--bridge=none --iptables=false` and the `acefleet/ace-sim:local` image loaded from the default one; engines use host networking on it (`NETWORK_MODE=host`) and the default bridge network of acefleet on the default daemon.",
    `- **Settings**: ${settings(opts)}.`,
    '- **Players** (bench/chaos/viewers.ts): stream s is played on proxy s mod 2. A player whose connection ends reconnects every 0.5 s to its proxy, or to the next running one, as behind a load balancer. A connection that ends or stays silent for 15 s counts as a drop; the longest gap is the longest time any player went without a byte, across reconnects. Recovery: from the fault to the end of the last gap over 1 s.',
    '- **Claims over capacity at any time** (bench/scale/capacity-watch.ts): one KV watch on `acefleet-engines` (riding reconnects across the nodes) checks every version of every engine record written, not just snapshots. The count of versions seen shows that the watch followed the bucket through the fault.',
    "- **Events and claims** (bench/chaos/audit.ts), polled until they agree after each fault: every running proxy's `/api/streams` against the stored `stream.started`/`stream.ended` in JetStream and stats' totals (lost, duplicates), and the managers' claims per engine against the proxies' streams (left over, missing).",
    `- **Faults**, one at a time (bench/scale/faults.ts): the NATS node leading ACEFLEET_EVENTS is found with \`leaderOf\`; the KV stream's leader is asked to step down until the same node leads both (\`$JS.API.STREAM.LEADER.STEPDOWN\`), then that node is killed with SIGKILL, held down ${opts.pauseMs / 1000} s and restarted on its store; "new leaders" is the time until both streams report another leader. The leading manager (manager 0) is killed with SIGKILL; "takeover" is the time until its standby's \`/api/status\` says leader; the killed one is then restarted and stands by. The last proxy is killed with SIGKILL and restarted ${opts.pauseMs / 1000} s later on its files (its players move to the other proxy meanwhile). The second dockerd is SIGSTOPped for ${opts.pauseMs / 1000} s, then SIGCONTed (its API stops answering while its containers keep running). The busiest engine is \`docker kill\`ed on the daemon that runs it.`,
    '',
  ].join('\n');
}
