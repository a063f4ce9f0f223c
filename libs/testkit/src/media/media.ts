import { execFile } from 'node:child_process';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ProbeResult {
  formatName: string;
  streams: { codec_type: string; codec_name: string }[];
}

/** What ffprobe, standing in for a player, makes of some bytes. */
export async function ffprobeBytes(bytes: Buffer): Promise<ProbeResult> {
  const dir = await mkdtemp(path.join(tmpdir(), 'acefleet-probe-'));
  try {
    const file = path.join(dir, 'sample.ts');
    await writeFile(file, bytes);
    return await ffprobe(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * What ffmpeg, decoding `bytes` (MPEG-TS) to nothing as a player would, reports at level error: one line per
 * decode, timestamp or demux error. `[]`: it decoded all of it cleanly.
 */
export async function ffmpegDecodeErrors(bytes: Buffer, timeoutMs = 60_000): Promise<string[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'acefleet-decode-'));
  try {
    const file = path.join(dir, 'sample.ts');
    await writeFile(file, bytes);
    const { stderr } = await run('ffmpeg', ['-nostdin', '-v', 'error', '-i', file, '-f', 'null', '-'], {
      timeout: timeoutMs,
    });
    return stderr.split('\n').filter((line) => line.trim() !== '');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** ffprobe a file or URL (URLs make ffprobe a real HTTP player). */
export async function ffprobe(input: string, timeoutMs = 30_000): Promise<ProbeResult> {
  const { stdout } = await run(
    'ffprobe',
    ['-v', 'error', '-rw_timeout', '15000000', '-show_format', '-show_streams', '-of', 'json', input],
    { timeout: timeoutMs },
  );
  const parsed = JSON.parse(stdout) as { format: { format_name: string }; streams: ProbeResult['streams'] };
  return { formatName: parsed.format.format_name, streams: parsed.streams };
}

export interface ClipOptions {
  seconds: number;
  /** false: a radio channel, audio only. */
  video?: boolean;
  /** PIDs of the video and audio streams (ffmpeg's default: 0x100, 0x101). */
  pids?: { video: number; audio: number };
}

/**
 * An MPEG-TS clip encoded by ffmpeg as ace-sim plays them (test pattern and tone, one key frame a second,
 * CBR), written to a temp dir that `remove` deletes: for an engine with other PIDs or with no video.
 */
export async function encodeClip(opts: ClipOptions): Promise<{ path: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'acefleet-clip-'));
  const file = path.join(dir, 'clip.mpegts');
  const video = opts.video ?? true;
  const pids = opts.pids;
  const audioIndex = video ? 1 : 0;
  await run('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error'],
    ...(video ? ['-f', 'lavfi', '-i', `testsrc=size=320x240:rate=25:duration=${opts.seconds}`] : []),
    ...['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${opts.seconds}`],
    ...(video
      ? ['-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-b:v', '800k', '-g', '25']
      : []),
    ...['-c:a', 'mp2', '-b:a', '64k'],
    ...(pids && video ? ['-streamid', `0:${pids.video}`] : []),
    ...(pids ? ['-streamid', `${audioIndex}:${pids.audio}`] : []),
    ...['-f', 'mpegts', '-muxrate', video ? '1200k' : '200k', file],
  ]);
  return { path: file, remove: () => rm(dir, { recursive: true, force: true }) };
}
