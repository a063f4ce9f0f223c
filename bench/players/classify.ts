// What a player's log says about the stream it played: each warning or error line, sorted into the three
// kinds a viewer notices (a break in the stream, time going wrong, a picture or sound that did not decode).
// Pure: fed the lines a player printed, tested on lines real players print.

export const playerNames = ['ffprobe', 'ffmpeg', 'mpv', 'vlc', 'gstreamer'] as const;
export type PlayerName = (typeof playerNames)[number];

export type LineKind = 'discontinuity' | 'timestamp' | 'decode' | 'other';

export interface Counts {
  discontinuity: number;
  timestamp: number;
  decode: number;
  /** Warnings and errors of no kind above (listed in the results, so nothing is hidden). */
  other: number;
}

export const noCounts = (): Counts => ({ discontinuity: 0, timestamp: 0, decode: 0, other: 0 });

interface Rules {
  /** Is the line a warning or an error at all (players print much else at verbose levels)? */
  relevant: RegExp;
  /** Lines that are about the player's set-up here (no screen, no sound card), not about the stream. */
  ignore?: RegExp;
  discontinuity: RegExp;
  timestamp: RegExp;
  decode: RegExp;
}

const rules: Record<PlayerName, Rules> = {
  // `-loglevel level+warning`: every line carries its level.
  ffprobe: {
    relevant: /\[(warning|error|fatal)\]/,
    discontinuity: /discontinuit|continuity check/i,
    timestamp: /monoton|timestamp|\bDTS\b|\bPTS\b|went backwards/i,
    decode: /decod|corrupt|invalid|error/i,
  },
  ffmpeg: {
    relevant: /\[(warning|error|fatal)\]/,
    discontinuity: /discontinuit|continuity check/i,
    timestamp: /monoton|timestamp|\bDTS\b|\bPTS\b|went backwards/i,
    decode: /decod|corrupt|invalid|error|concealing/i,
  },
  // `--msg-level=all=warn`: only warnings and errors are printed.
  mpv: {
    relevant: /./,
    ignore:
      /^(Exiting|\(Paused\)|AV:|A:|V:)|audio output|--ao|--vo|No video output|Playing:|File tags|Audio --aid|Video --vid|\[cplayer\] .*(Exiting|EOF)/i,
    discontinuity: /discontinuit/i,
    timestamp: /timestamp|desync|went backwards|\bpts\b|\bdts\b/i,
    decode: /decod|corrupt|invalid|error|concealing/i,
  },
  // `-vv`: only its `warning:` and `error:` lines count.
  vlc: {
    relevant: / (warning|error): /,
    ignore:
      /dbus|xdg|vdpau|va(api)?_|screensaver|inhibit|cannot (connect|open) to X|interface|playlist|keystore|lua|dummy|main libvlc|no suitable services discovery|stream_out|SetLogLevel|audio output|video output|vout display|audio resampler|window/i,
    discontinuity: /discontinuit/i,
    timestamp: /timestamp|PCR .*too late|clock|\bpts\b|\bdts\b|late picture|picture is too late/i,
    decode: /decod|corrupt|slice|concealing|mmco|reference|error while/i,
  },
  // GST_DEBUG=2 (warnings): the element and its message.
  gstreamer: {
    relevant: /\b(WARN|ERROR)\b|^ERROR/,
    ignore: /gststructure\.c|descriptions\.c|GstSoupSession|format_info_get_desc|latency|qos/i,
    discontinuity: /discontinuit|DISCONT/i,
    timestamp: /RESET detected|backwards|timestamp|\bpts\b|\bdts\b|clock/i,
    decode: /decod|corrupt|avdec|error/i,
  },
};

/** The kind of one line a player printed, or undefined when it is not a warning or error worth counting. */
export function classifyLine(player: PlayerName, line: string): LineKind | undefined {
  const r = rules[player];
  if (!line.trim() || !r.relevant.test(line) || r.ignore?.test(line)) return undefined;
  if (r.discontinuity.test(line)) return 'discontinuity';
  if (r.timestamp.test(line)) return 'timestamp';
  if (r.decode.test(line)) return 'decode';
  return 'other';
}

export interface LogSummary {
  counts: Counts;
  /** The distinct counted lines (addresses and numbers folded), with how often each came. */
  lines: Map<string, number>;
  /** Discontinuity lines per PID, where the line names one ("pid=256", "PID 0x100"). */
  discontinuityPerPid: Map<number, number>;
}

/** The PID a discontinuity line names, if any. */
function pidNamed(line: string): number | undefined {
  const m = /\bpid[ =:]*(0x[0-9a-f]+|\d+)/i.exec(line);
  return m ? Number(m[1]) : undefined;
}

export function classifyLog(player: PlayerName, log: string): LogSummary {
  const counts = noCounts();
  const lines = new Map<string, number>();
  const discontinuityPerPid = new Map<number, number>();
  for (const line of log.split('\n')) {
    const kind = classifyLine(player, line);
    if (!kind) continue;
    counts[kind]++;
    // VLC's PSI decoder repeats the demuxer's complaint about the same break: one per break is counted.
    const pid = kind === 'discontinuity' && !/libdvbpsi/.test(line) ? pidNamed(line) : undefined;
    if (pid !== undefined) discontinuityPerPid.set(pid, (discontinuityPerPid.get(pid) ?? 0) + 1);
    const folded = `${kind}: ${line
      .replace(/0x[0-9a-f]+/gi, '0x…')
      .replace(/\d+/g, 'N')
      .replace(/\s+/g, ' ')
      .trim()}`.slice(0, 200);
    lines.set(folded, (lines.get(folded) ?? 0) + 1);
  }
  return { counts, lines, discontinuityPerPid };
}

/** Steps where a list of DTS (90 kHz ticks, as ffprobe prints them) goes back or stands still. */
export function dtsBackwards(dts: readonly number[]): number {
  let back = 0;
  for (let i = 1; i < dts.length; i++) if (dts[i]! <= dts[i - 1]!) back++;
  return back;
}
