/** Send one fuzz case on its own connection and tell what came back. */
import http from 'node:http';
import net from 'node:net';
import type { FuzzCase } from './gen.ts';

/**
 * How the connection ended: `answered` (all expected status lines read), `partial` (fewer answers than requests),
 * `closed` (the server hung up without a word), `reset`, `timeout` (we gave up waiting for an answer),
 * `hung-up` (we left on purpose before any answer: silent, stalled and aborted cases).
 */
export type Ending = 'answered' | 'partial' | 'closed' | 'reset' | 'timeout' | 'hung-up';

export interface Outcome {
  statuses: number[];
  ending: Ending;
  bytes: number;
}

export interface SendOptions {
  port: number;
  /** Give up on an answer after this long. */
  answerTimeoutMs: number;
  /** After the answers arrived, keep reading streamed bodies (media, SSE) at most this long. */
  bodyGraceMs: number;
}

// Anywhere: a body without a trailing newline runs straight into the next pipelined answer.
const STATUS = /HTTP\/1\.[01] (\d{3}) /g;
const PLAY_BYTES = 188 * 200;

/** Raw bytes over node:net. The reply is read as latin1 and its status lines picked out. */
export function sendRaw(c: FuzzCase, o: SendOptions): Promise<Outcome> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port: o.port });
    let head = '';
    let bytes = 0;
    const statuses: number[] = [];
    let hungUp = false;
    let reset = false;
    let settled = false;
    let leaving = false;
    const timers: NodeJS.Timeout[] = [];
    const later = (ms: number, f: () => void) => timers.push(setTimeout(f, ms));
    const finish = () => {
      if (settled) return;
      settled = true;
      timers.forEach(clearTimeout);
      sock.destroy();
      const ending: Ending =
        statuses.length >= c.expect
          ? 'answered'
          : statuses.length > 0
            ? 'partial'
            : hungUp
              ? 'hung-up'
              : reset
                ? 'reset'
                : sock.readableEnded
                  ? 'closed'
                  : 'timeout';
      resolve({ statuses, ending, bytes });
    };
    const hangUp = () => {
      hungUp = true;
      finish();
    };
    const raw = c.raw!;
    const half = raw.subarray(0, Math.max(1, raw.length >> 1));
    sock.setNoDelay(true);
    sock.on('connect', () => {
      switch (c.mode) {
        case 'silent':
          return later(c.holdMs, hangUp);
        case 'stall':
          sock.write(half);
          return later(c.holdMs, hangUp);
        case 'abort':
          sock.write(half, () => {
            hungUp = true;
            sock.resetAndDestroy();
            finish();
          });
          return;
        case 'slow-read':
          sock.write(raw);
          sock.pause();
          return later(c.holdMs, () => sock.resume());
        default:
          sock.write(raw);
      }
    });
    sock.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (head.length < 1_048_576) head += chunk.toString('latin1');
      statuses.length = 0;
      // 1xx (100 Continue) is not the answer: wait for the final status.
      for (const m of head.matchAll(STATUS)) if (Number(m[1]) >= 200) statuses.push(Number(m[1]));
      if (statuses.length < c.expect) return;
      // Answered: a streamed body (media, SSE) never ends by itself, so read a little and leave.
      if (c.mode === 'play' && bytes < PLAY_BYTES) return;
      if (leaving) return;
      leaving = true;
      later(c.mode === 'play' ? 0 : o.bodyGraceMs, finish);
    });
    sock.on('error', (err: NodeJS.ErrnoException) => {
      reset ||= err.code === 'ECONNRESET' || err.code === 'EPIPE';
    });
    sock.on('close', finish);
    later((c.answerTimeoutMs ?? o.answerTimeoutMs) + c.holdMs, finish);
  });
}

/** A request through node:http (so only what its client accepts): odd methods, queries and headers. */
export function sendHttp(c: FuzzCase, o: SendOptions): Promise<Outcome> {
  const r = c.http!;
  return new Promise((resolve) => {
    let bytes = 0;
    let status: number | undefined;
    let req: http.ClientRequest | undefined;
    const done = (ending: Ending) => {
      clearTimeout(timer);
      req?.destroy();
      resolve({
        statuses: status === undefined ? [] : [status],
        ending: status ? 'answered' : ending,
        bytes,
      });
    };
    const timer = setTimeout(() => done('timeout'), o.answerTimeoutMs);
    try {
      req = http.request(
        { host: '127.0.0.1', port: o.port, method: r.method, path: r.path, headers: r.headers, agent: false },
        (res) => {
          status = res.statusCode;
          res.on('data', (chunk: Buffer) => (bytes += chunk.length));
          res.on('end', () => done('answered'));
          setTimeout(() => done('answered'), o.bodyGraceMs).unref();
        },
      );
    } catch {
      // node:http refused to build the request: nothing was sent, a client-side rejection.
      clearTimeout(timer);
      resolve({ statuses: [], ending: 'hung-up', bytes: 0 });
      return;
    }
    req.on('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNRESET' ? 'reset' : 'closed'));
    req.end();
  });
}
