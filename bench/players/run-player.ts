// Runs one real player on a URL for a while and reads what it printed: the players a household uses, as
// Debian ships them (ffprobe, ffmpeg, mpv, VLC, GStreamer), with their video and sound going nowhere.
import { spawn } from 'node:child_process';
import { classifyLog, dtsBackwards, noCounts, type Counts, type PlayerName } from './classify.ts';

export interface PlayerRun {
  player: PlayerName;
  /** How long the player was asked to play, and how long it ran. */
  seconds: number;
  ranMs: number;
  exitCode: number | null;
  /** It stopped well before its time: the stream ended under it (or it gave up). */
  endedEarly: boolean;
  counts: Counts;
  /** Distinct counted lines, with how often each came. */
  lines: Record<string, number>;
  /** Discontinuity lines per PID, where the player names the PID. */
  discontinuityPerPid: Record<string, number>;
  /** ffprobe: video packets read, and how many times their DTS went back. ffmpeg: frames decoded. */
  packets?: number;
  dtsBack?: number;
  frames?: number;
}

interface Command {
  bin: string;
  args: string[];
  env?: Record<string, string>;
  /** Stop it ourselves after the time (players without a duration option of their own). */
  stopAfterTime: boolean;
}

export interface PlayOptions {
  /**
   * ffprobe and ffmpeg give up on a read that waits 5 s (`-rw_timeout`), as a player with a short read
   * timeout does; false: they wait as long as the stream does (ffmpeg's own default).
   */
  readTimeout?: boolean;
}

function command(player: PlayerName, url: string, seconds: number, opts: PlayOptions): Command {
  const rw = opts.readTimeout === false ? [] : ['-rw_timeout', '5000000'];
  switch (player) {
    case 'ffprobe':
      return {
        bin: 'ffprobe',
        args: [
          ...['-loglevel', 'level+warning', ...rw, '-read_intervals', `%+${seconds}`],
          ...['-select_streams', 'v:0', '-show_entries', 'packet=dts', '-of', 'csv=p=0', url],
        ],
        stopAfterTime: false,
      };
    case 'ffmpeg':
      return {
        bin: 'ffmpeg',
        args: [
          ...['-nostdin', '-loglevel', 'level+warning', ...rw, '-i', url],
          ...['-t', String(seconds), '-f', 'null', '-progress', 'pipe:1', '-'],
        ],
        stopAfterTime: false,
      };
    case 'mpv':
      return {
        bin: 'mpv',
        args: [
          ...['--no-config', '--vo=null', '--ao=null', `--length=${seconds}`, '--msg-level=all=warn'],
          ...['--network-timeout=30', url],
        ],
        stopAfterTime: false,
      };
    case 'vlc':
      // VLC refuses to run as root.
      return {
        bin: 'runuser',
        args: [
          ...['-u', 'nobody', '--', 'cvlc', '-vv', '--no-interact', '--play-and-exit'],
          ...['--vout=dummy', '--aout=dummy', '--no-video-title-show', url],
        ],
        // --run-time does not stop a live stream.
        stopAfterTime: true,
      };
    case 'gstreamer':
      return {
        bin: 'gst-launch-1.0',
        args: [
          // playbin3: the HLS demuxer of GStreamer 1.22 wants its streams-aware pipeline.
          ...['-q', 'playbin3', `uri=${url}`],
          ...['video-sink=fakesink sync=true', 'audio-sink=fakesink sync=true'],
        ],
        env: { GST_DEBUG: '2', GST_DEBUG_NO_COLOR: '1' },
        stopAfterTime: true,
      };
  }
}

/** Play `url` with `player` for `seconds` (stream time for ffprobe); resolves when it has stopped. */
export function playFor(
  player: PlayerName,
  url: string,
  seconds: number,
  opts: PlayOptions = {},
): Promise<PlayerRun> {
  const cmd = command(player, url, seconds, opts);
  const startedAt = performance.now();
  // In a process group of its own, so a stop reaches the player behind runuser too.
  const child = spawn(cmd.bin, cmd.args, {
    env: { ...process.env, ...cmd.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const signal = (sig: NodeJS.Signals): void => {
    if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, sig);
  };
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  // A player that stops by itself gets a margin for its own start and warm-up; past it, it is stopped.
  const stopAt = setTimeout(() => signal('SIGINT'), (cmd.stopAfterTime ? seconds : seconds + 60) * 1000);
  const hardStop = setTimeout(() => signal('SIGKILL'), (seconds + 70) * 1000);
  return new Promise((resolve) => {
    child.on('close', (exitCode) => {
      clearTimeout(stopAt);
      clearTimeout(hardStop);
      const ranMs = performance.now() - startedAt;
      const log = classifyLog(player, `${stderr}\n${player === 'ffprobe' ? '' : stdout}`);
      const run: PlayerRun = {
        player,
        seconds,
        ranMs,
        exitCode,
        endedEarly: ranMs < seconds * 1000 * 0.9,
        counts: log.counts,
        lines: Object.fromEntries(log.lines),
        discontinuityPerPid: Object.fromEntries(log.discontinuityPerPid),
      };
      // The two that count stream time ended early if they got less of it than asked.
      if (player === 'ffprobe') {
        // csv=p=0 prints `<dts>,` per packet.
        const dts = [...stdout.matchAll(/^(\d+),?\s*$/gm)].map((m) => Number(m[1]));
        run.packets = dts.length;
        run.dtsBack = dtsBackwards(dts);
        const span = dts.length > 1 ? (dts.at(-1)! - dts[0]!) / 90_000 : 0;
        run.endedEarly = span < seconds * 0.9;
      }
      if (player === 'ffmpeg') {
        const frames = [...stdout.matchAll(/^frame=(\d+)/gm)].pop();
        const outUs = [...stdout.matchAll(/^out_time_us=(\d+)/gm)].pop();
        run.frames = frames ? Number(frames[1]) : 0;
        run.endedEarly = (outUs ? Number(outUs[1]) / 1e6 : 0) < seconds * 0.9;
      }
      resolve(run);
    });
    child.on('error', () =>
      resolve({
        ...{ player, seconds, ranMs: 0, exitCode: null, endedEarly: true, counts: noCounts() },
        lines: { [`${cmd.bin} could not start`]: 1 },
        discontinuityPerPid: {},
      }),
    );
  });
}
