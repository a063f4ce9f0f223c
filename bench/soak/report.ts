/**
 * The soak's verdict and bench/results/soak.md: memory and fds flat after warm-up (a fitted slope whose
 * growth over the window stays within the noise), every disk figure within its configured bound, no ghost
 * session and no leaked claim once the players are gone.
 */
import type { Sample } from './sampler.ts';
import { SERVICES } from './stack.ts';
import { lineChart, type Series } from './svg.ts';

export interface EndAudit {
  /** Sessions stats still shows as playing that no proxy plays. */
  ghostSessions: number;
  /** Claims the manager still holds once no stream plays. */
  leakedClaims: number;
  /** Streams the proxy still plays after every player left and the linger passed. */
  proxyStreams: number;
}

export interface SoakRun {
  startedAt: Date;
  minutes: number;
  dayMs: number;
  samples: Sample[];
  faults: { at: number; what: string }[];
  viewers: {
    joined: number;
    left: number;
    failedStarts: number;
    failures: Record<string, number>;
    bytes: number;
  };
  audit: EndAudit;
  bounds: {
    logFileBytes: number;
    logFiles: number;
    jetstreamBytes: number;
    sqliteBytes: number;
    engineDiskBytes: number;
  };
  machine: string;
}

export interface Trend {
  mean: number;
  /** Growth over the window that the fitted line predicts. */
  growth: number;
  /** Standard deviation of the points around the line. */
  noise: number;
  flat: boolean;
}

/** Least squares over the points after warm-up; flat when its growth stays within max(3 σ, `floor`). */
export function trend(points: [number, number][], floor: number): Trend {
  const n = points.length;
  if (n < 3) return { mean: points[0]?.[1] ?? 0, growth: 0, noise: 0, flat: true };
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const sxx = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  const slope = sxx === 0 ? 0 : points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0) / sxx;
  const noise = Math.sqrt(points.reduce((a, [x, y]) => a + (y - (my + slope * (x - mx))) ** 2, 0) / n);
  const span = points[n - 1]![0] - points[0]![0];
  const growth = slope * span;
  return { mean: my, growth, noise, flat: Math.abs(growth) <= Math.max(3 * noise, floor) };
}

/** A lifetime needs this many points after its own warm-up to be judged. */
const MIN_POINTS = 8;

/** How one process's memory and fds are judged: over the run, or over its longest lifetime. */
export interface Judged {
  rss: Trend;
  fds: Trend;
  /** Undefined: one lifetime, the whole run after its first quarter. Else the lifetime judged. */
  lifetime?: { count: number; minutes: number };
  /** No lifetime was long enough to judge. */
  tooShort: boolean;
}

type Point = { t: number; pid: number; rssMb: number; fds: number };

/**
 * A process that was never restarted is judged over the run after its first quarter (`warmFrom`, seconds).
 * One that was (killed by the soak's faults) starts again with fresh memory, so a line fitted across its
 * lifetimes measures the restarts, not a leak: it is judged over its longest lifetime instead, after that
 * lifetime's own first quarter, when that leaves MIN_POINTS points.
 */
export function judge(points: Point[], warmFrom: number): Judged {
  const lifetimes = new Map<number, Point[]>();
  for (const p of points) {
    const lifetime = lifetimes.get(p.pid);
    if (lifetime) lifetime.push(p);
    else lifetimes.set(p.pid, [p]);
  }
  const fit = (ps: Point[]): Pick<Judged, 'rss' | 'fds'> => ({
    rss: trend(
      ps.map((p) => [p.t, p.rssMb]),
      0.05 * (ps[0]?.rssMb ?? 0),
    ),
    fds: trend(
      ps.map((p) => [p.t, p.fds]),
      2,
    ),
  });
  if (lifetimes.size <= 1) return { ...fit(points.filter((p) => p.t >= warmFrom)), tooShort: false };
  const span = (ps: Point[]): number => ps[ps.length - 1]!.t - ps[0]!.t;
  const longest = [...lifetimes.values()].sort((a, b) => span(b) - span(a))[0]!;
  const warm = longest.filter((p) => p.t >= longest[0]!.t + span(longest) / 4);
  const lifetime = { count: lifetimes.size, minutes: span(longest) / 60 };
  return { ...fit(warm), lifetime, tooShort: warm.length < MIN_POINTS };
}

const MIB = 1024 * 1024;
const mb = (b: number): string => `${(b / MIB).toFixed(2)} MiB`;

export function soakReport(r: SoakRun): { markdown: string; charts: Record<string, string>; ok: boolean } {
  const { samples } = r;
  const end = samples[samples.length - 1]!.t;
  const warm = samples.filter((s) => s.t >= end * 0.25);
  const series = (pick: (s: Sample) => number | undefined, from = samples): [number, number][] =>
    from.flatMap((s) => {
      const v = pick(s);
      return v === undefined ? [] : [[s.t, v] as [number, number]];
    });
  const perProcess = (pick: (p: NonNullable<Sample['processes'][string]>) => number | undefined): Series[] =>
    SERVICES.map((name) => ({
      name,
      points: series((s) => {
        const p = s.processes[name];
        return p ? pick(p) : undefined;
      }),
    }));

  const rows: string[] = [];
  let ok = true;
  for (const name of SERVICES) {
    const points = samples.flatMap((s) => {
      const p = s.processes[name];
      return p ? [{ t: s.t, pid: p.pid, rssMb: p.rssMb, fds: p.fds }] : [];
    });
    const { rss, fds, lifetime, tooShort } = judge(points, end * 0.25);
    const loop = series((s) => s.processes[name]?.loopP99Ms, warm).map(([, v]) => v);
    ok &&= tooShort || (rss.flat && fds.flat);
    const verdict = (x: Trend): string => (tooShort ? 'not judged' : x.flat ? 'flat' : '**grows**');
    const over = lifetime
      ? `longest of ${lifetime.count} lifetimes (${lifetime.minutes.toFixed(0)} min)`
      : 'the run after its first quarter';
    rows.push(
      `| ${name} | ${over} | ${rss.mean.toFixed(1)} | ${rss.growth >= 0 ? '+' : ''}${rss.growth.toFixed(1)} (σ ${rss.noise.toFixed(1)}) | ${verdict(rss)} | ${fds.mean.toFixed(0)} | ${fds.growth >= 0 ? '+' : ''}${fds.growth.toFixed(1)} (σ ${fds.noise.toFixed(1)}) | ${verdict(fds)} | ${loop.length ? Math.max(...loop).toFixed(1) : '–'} |`,
    );
  }

  const last = samples[samples.length - 1]!.disk;
  const maxOf = (pick: (d: Sample['disk']) => number): number =>
    Math.max(...samples.map((s) => pick(s.disk)));
  const disk = [
    [
      'largest log file',
      maxOf((d) => d.largestLogBytes),
      2 * r.bounds.logFileBytes,
      'twice LOG_FILE_MAX_BYTES (the goal)',
    ],
    [
      'all logs',
      maxOf((d) => d.logsBytes),
      r.bounds.logFileBytes * r.bounds.logFiles * SERVICES.length,
      'LOG_FILE_MAX_BYTES × LOG_FILES × 5 processes',
    ],
    [
      'JetStream store',
      maxOf((d) => d.jetstreamBytes),
      r.bounds.jetstreamBytes,
      'EVENTS + SAMPLES + 4 × KV _MAX_BYTES, plus 10 % store overhead',
    ],
    [
      'stats SQLite (db + WAL)',
      maxOf((d) => d.sqliteBytes),
      r.bounds.sqliteBytes,
      'budget for this run (see below)',
    ],
    [
      'engines’ own layers',
      maxOf((d) => d.enginesBytes),
      r.bounds.engineDiskBytes,
      'ENGINE_DISK_MAX_MB × engines (caches are tmpfs, ENGINE_CACHE_MB each)',
    ],
  ] as const;
  const diskRows = disk.map(([what, max, bound, why]) => {
    const within = max <= bound;
    ok &&= within;
    return `| ${what} | ${mb(max)} | ${mb(bound)} (${why}) | ${within ? 'within' : '**over**'} |`;
  });
  ok &&= r.audit.ghostSessions === 0 && r.audit.leakedClaims === 0;

  const charts: Record<string, string> = {
    'soak-rss.svg': lineChart(
      'Resident memory per process',
      'MiB',
      perProcess((p) => p.rssMb),
    ),
    'soak-fds.svg': lineChart(
      'Open file descriptors per process',
      'fds',
      perProcess((p) => p.fds),
    ),
    'soak-loop.svg': lineChart(
      'Event-loop delay p99',
      'ms',
      perProcess((p) => p.loopP99Ms).filter((s) => s.name !== 'nats-server'),
    ),
    'soak-logs.svg': lineChart(
      'Logs in .run/logs',
      'MiB',
      [
        { name: 'all files', points: series((s) => s.disk.logsBytes / MIB) },
        { name: 'largest file', points: series((s) => s.disk.largestLogBytes / MIB) },
      ],
      { value: (2 * r.bounds.logFileBytes) / MIB, label: '2 × file bound' },
    ),
    'soak-jetstream.svg': lineChart(
      'JetStream store',
      'MiB',
      [{ name: 'store', points: series((s) => s.disk.jetstreamBytes / MIB) }],
      { value: r.bounds.jetstreamBytes / MIB, label: 'bound' },
    ),
    'soak-sqlite.svg': lineChart('stats SQLite (db + WAL)', 'MiB', [
      { name: 'db + WAL', points: series((s) => s.disk.sqliteBytes / MIB) },
    ]),
    'soak-engines.svg': lineChart('Engines: container layers, count, players', 'MiB / count', [
      { name: 'layers MiB', points: series((s) => s.disk.enginesBytes / MIB) },
      { name: 'engines', points: series((s) => s.engines) },
      { name: 'players', points: series((s) => s.players) },
    ]),
  };

  const faultList = r.faults.map((f) => `${(f.at / 60).toFixed(1)} min ${f.what}`).join('; ');
  const markdown = `# Soak: an accelerated month unattended

\`npm run soak\` (bench/soak.ts). Run ${r.startedAt.toISOString()}, ${r.minutes} min (SOAK_MINUTES), ${r.machine}.
One soak day lasted ${(r.dayMs / 1000).toFixed(0)} s: engines lived that long (ENGINE_MAX_AGE_MS), samples
were kept a quarter of it, every store had a small byte bound so that reaching it shows within the run
(settings: \`soakEnv\` in bench/soak/stack.ts). The stack is \`npm start\` itself (its supervisor, log rotation,
Docker engines), on free ports in a state directory of its own.

**Verdict: ${ok ? 'PASS' : 'FAIL'}** — memory and fds ${rows.every((row) => !row.includes('grows')) ? 'flat after warm-up' : 'grow (see the table)'};
disk ${diskRows.every((row) => row.includes('within')) ? 'within every bound' : 'over a bound (see the table)'};
${r.audit.ghostSessions} ghost sessions and ${r.audit.leakedClaims} leaked claims at the end.

## Load and faults

- Players: ${r.viewers.joined} joined and ${r.viewers.left} left over 50 channels (popular ones more often), ${r.viewers.failedStarts} starts failed (${
    Object.entries(r.viewers.failures)
      .map(([k, n]) => `${k}: ${n}`)
      .join(', ') || 'none'
  }), ${(r.viewers.bytes / 1e9).toFixed(2)} GB played.
- Faults (${r.faults.length}): ${faultList || 'none'}.
- At the end, after every player left and the linger passed: ${r.audit.proxyStreams} streams on the proxy, ${r.audit.ghostSessions} sessions stats shows as playing beyond those (ghosts), ${r.audit.leakedClaims} claims the manager holds beyond those (leaked).

## Memory, fds and event-loop delay after warm-up (the first quarter left out)

Flat: the growth a least-squares line predicts over the window stays within 3 σ of the points around it (or
5 % of the memory, 2 fds). Killed processes (NATS, the manager) restart with fresh memory, so their lines drop
at each restart and a line fitted across lifetimes measures the restarts: each is judged over its longest
lifetime, after that lifetime's own first quarter (not judged when that leaves fewer than ${MIN_POINTS} samples).

| process | judged over | RSS MiB (mean) | growth MiB | | fds (mean) | growth | | loop p99 max ms |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

![RSS](soak-rss.svg)
![fds](soak-fds.svg)
![event loop](soak-loop.svg)

## Disk

| what | largest seen | bound | |
| --- | --- | --- | --- |
${diskRows.join('\n')}

At the end: logs ${mb(last.logsBytes)} in ${last.logFiles} files, JetStream ${mb(last.jetstreamBytes)}, SQLite ${mb(last.sqliteBytes)}, engines ${mb(last.enginesBytes)}.

![logs](soak-logs.svg)
![JetStream](soak-jetstream.svg)
![SQLite](soak-sqlite.svg)
![engines](soak-engines.svg)
`;
  return { markdown, charts, ok };
}
