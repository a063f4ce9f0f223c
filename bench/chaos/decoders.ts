import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

/** What ffmpeg prints: `-v error` (errors only) or `-v warning` (also what it works around). */
export type DecoderLevel = 'error' | 'warning';

const RETRY_MS = 500;

/** A line a decoder printed (or its exit), when. */
interface DecoderLine {
  at: number;
  text: string;
}

/** What the decoders printed since the window opened. */
export interface DecoderReport {
  /** Lines printed on stderr by every decoder (an exit, a reconnect, counts as one). */
  decoderErrors: number;
  /** The distinct lines, `count× text`, most frequent first. */
  decoderMessages: string[];
}

/** ffmpeg's lines name the decoder's context by address (`[h264 @ 0x55d…]`): one message, whatever the address. */
const normalise = (line: string): string => line.replace(/0x[0-9a-f]+/g, '0x…').trim();

/**
 * One real decoder: `ffmpeg -i <url> -f null -` reading a channel from the proxy, decoding every frame. Like a
 * player it reconnects (every RETRY_MS) when its input ends; the end counts as a line.
 */
class Decoder {
  readonly lines: DecoderLine[] = [];
  private child: ChildProcess | undefined;
  private stopped = false;
  private readonly loop: Promise<void>;

  constructor(
    private readonly url: string,
    private readonly level: DecoderLevel,
  ) {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const code = await this.decode();
      if (this.stopped) return;
      this.lines.push({ at: performance.now(), text: `decoder exited (${code}), reconnecting` });
      await sleep(RETRY_MS);
    }
  }

  private decode(): Promise<string> {
    const child = spawn('ffmpeg', ['-nostdin', '-v', this.level, '-i', this.url, '-f', 'null', '-'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child = child;
    let rest = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      const at = performance.now();
      for (const text of parts) if (text.trim()) this.lines.push({ at, text: normalise(text) });
    });
    return new Promise((resolve) => {
      child.on('error', (err) => resolve(err.message));
      child.on('close', (code, signal) => resolve(String(signal ?? code)));
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.child?.kill('SIGTERM');
    await this.loop;
  }
}

/** A few decoding players, on channels of their own; what they printed is counted per window. */
export class Decoders {
  private readonly decoders: Decoder[];
  private windowAt = performance.now();

  constructor(url: (stream: number) => string, streams: number[], level: DecoderLevel) {
    this.decoders = streams.map((s) => new Decoder(url(s), level));
  }

  openWindow(): void {
    this.windowAt = performance.now();
  }

  /** Every line since the window opened, from every decoder. */
  report(): DecoderReport {
    const lines = this.decoders.flatMap((d) => d.lines.filter((l) => l.at >= this.windowAt));
    const counts = new Map<string, number>();
    for (const l of lines) counts.set(l.text, (counts.get(l.text) ?? 0) + 1);
    return {
      decoderErrors: lines.length,
      decoderMessages: [...counts].sort((a, b) => b[1] - a[1]).map(([text, n]) => `${n}× ${text}`),
    };
  }

  async stop(): Promise<void> {
    await Promise.all(this.decoders.map((d) => d.stop()));
  }
}
