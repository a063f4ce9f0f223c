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
