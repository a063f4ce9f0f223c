import type { Socket } from 'node:net';
import { nullPacket } from '@acefleet/mpegts';
import type { AcefleetError } from '@acefleet/contracts';
import type { JoinKind } from './fanout.ts';
import { writeResponseHead, type Viewer } from './viewer.ts';

/** Lets a waiting player into the stream (its response head already sent or not). */
export type Admit = (socket: Socket, requestedAt: bigint, kind: JoinKind, headSent: boolean) => Viewer;

interface Waiter {
  socket: Socket;
  requestedAt: bigint;
  kind: JoinKind;
  /** Sends its head `headAfterMs` after it came. */
  headTimer: NodeJS.Timeout;
  headSent: boolean;
  /** A viewer once in; undefined when the start failed after its head went out (its body was ended). */
  resolve: (viewer: Viewer | undefined) => void;
  /** The start failed before its head went out: the caller answers with the error. */
  reject: (err: AcefleetError) => void;
  onClose: () => void;
}

/**
 * Null packets sent with the response head: enough for a player's first read of the body (ffmpeg probes
 * 2 KiB before anything else) to find MPEG-TS at once.
 */
const HEAD_NULL_PACKETS = 12;
const NULL = nullPacket();
const HEAD_BURST = Buffer.concat(Array.from({ length: HEAD_NULL_PACKETS }, () => NULL));

function sendHead(w: Waiter): void {
  if (w.socket.destroyed) return;
  writeResponseHead(w.socket);
  w.socket.write(HEAD_BURST);
  w.headSent = true;
}

/** The waiter is answered: no head, no close handler any more. */
function settle(w: Waiter): void {
  clearTimeout(w.headTimer);
  w.socket.off('close', w.onClose);
}

/**
 * The players of a stream that wait for its first media, which a real engine may take 25 s to send. A
 * start that fails quickly answers them with its error; one that takes longer than `headAfterMs` sends them
 * the response head and then a null packet on every tick, so a player with a short read timeout stays; if
 * the start then fails, their bodies end cleanly.
 */
export class WaitingPlayers {
  private waiters: Waiter[] = [];

  constructor(
    private readonly headAfterMs: number,
    /** A waiter hung up: the stream may be empty now. */
    private readonly onLeft: () => void,
  ) {}

  get size(): number {
    return this.waiters.length;
  }

  add(socket: Socket, requestedAt: bigint, kind: JoinKind): Promise<Viewer | undefined> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        socket,
        requestedAt,
        kind,
        headSent: false,
        headTimer: setTimeout(() => sendHead(waiter), this.headAfterMs),
        resolve,
        reject,
        onClose: () => {
          clearTimeout(waiter.headTimer);
          this.waiters = this.waiters.filter((w) => w !== waiter);
          this.onLeft();
        },
      };
      this.waiters.push(waiter);
      socket.once('close', waiter.onClose);
    });
  }

  /** On the stream's watchdog (every 250 ms): a null packet to every player that has its head. */
  keepAlive(): void {
    for (const w of this.waiters) if (w.headSent) w.socket.write(NULL);
  }

  /** Every waiter joins the stream now. */
  admit(join: Admit): void {
    for (const w of this.waiters.splice(0)) {
      settle(w);
      w.resolve(join(w.socket, w.requestedAt, w.kind, w.headSent));
    }
  }

  /** The start failed: an error answer where no head went out yet, else a clean end of the body. */
  fail(error: AcefleetError): void {
    for (const w of this.waiters.splice(0)) {
      settle(w);
      if (!w.headSent) w.reject(error);
      else {
        w.socket.end();
        setTimeout(() => w.socket.destroy(), 5000).unref();
        w.resolve(undefined);
      }
    }
  }
}
