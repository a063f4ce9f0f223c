import net from 'node:net';
import tls from 'node:tls';
import { AcefleetError } from '@acefleet/contracts';
import { ResponseDecoder, type ResponseHead } from './response-decoder.ts';

/** What the holder of a media body hears from it, in order, until `end` or `error` (at most one of them). */
export interface PlaybackHandlers {
  /**
   * The next bytes of the body: a view of a read buffer shared by every body and reused as soon as this
   * call returns. What must outlive the call is copied.
   */
  data(bytes: Buffer): void;
  /** The engine ended the body where its framing said (or closed a body of unknown length). */
  end(): void;
  /** The connection broke, the engine closed it mid-body, or the body could not be decoded. */
  error(error: AcefleetError): void;
}

export interface PlaybackBody {
  /** Stop reading and close the connection. No handler is called after it. */
  destroy(): void;
}

/**
 * One read buffer for every plain-HTTP media body: each read is decoded and handed on (and copied by the
 * holder) before libuv reads the next socket, so no read allocates. Node's HTTP client allocates a buffer per
 * read and pushes it through a stream; with hundreds of engine sockets that was a large share of the proxy.
 */
const readBuffer = Buffer.allocUnsafeSlow(64 * 1024);

function connect(url: URL, onBytes: (bytes: Buffer) => void): net.Socket {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (url.protocol === 'https:') {
    return tls.connect({ host, port: Number(url.port || 443), servername: host }).on('data', onBytes);
  }
  const callback = (n: number, buf: Buffer): boolean => {
    onBytes(buf.subarray(0, n));
    return true;
  };
  return net.connect({ host, port: Number(url.port || 80), onread: { buffer: readBuffer, callback } });
}

/** One media body: the connection, its decoder, and who is told what, once. */
class Playback implements PlaybackBody {
  /** Opening: the promise is pending. Playing: the handlers are told. Over: nobody is told anything more. */
  private phase: 'opening' | 'playing' | 'over' = 'opening';
  private readonly decoder: ResponseDecoder;
  private readonly socket: net.Socket;
  private readonly timer: NodeJS.Timeout;
  /**
   * Body bytes that came in the read that carried the head (copied), kept until the holder has had its turn
   * to take the body (the promise's continuations run before the next read or immediate), so that nothing
   * reaches a handler before the holder knows the body it belongs to. `undefined`: not holding.
   */
  private held: { bytes: Buffer[]; ended: boolean } | undefined;

  constructor(
    url: URL,
    timeoutMs: number,
    private readonly handlers: PlaybackHandlers,
    private readonly opened: (body: PlaybackBody) => void,
    private readonly refused: (error: AcefleetError) => void,
  ) {
    this.decoder = new ResponseDecoder({
      head: (head) => this.onHead(head),
      body: (bytes) => {
        if (this.held) this.held.bytes.push(Buffer.from(bytes));
        else if (this.phase === 'playing') handlers.data(bytes);
      },
      complete: () => {
        if (this.held) this.held.ended = true;
        else this.end();
      },
    });
    this.socket = connect(url, (bytes) => this.onBytes(bytes));
    this.socket.setNoDelay(true);
    this.socket.write(
      `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nUser-Agent: acefleet\r\nConnection: close\r\n\r\n`,
    );
    this.socket.on('error', (cause) =>
      this.fail(new AcefleetError('engine_error', 'playback: connection failed', { cause })),
    );
    this.socket.on('close', () => this.onClose());
    this.timer = setTimeout(
      () => this.fail(new AcefleetError('engine_timeout', `playback: no headers in ${timeoutMs} ms`)),
      timeoutMs,
    );
  }

  destroy(): void {
    this.phase = 'over';
    this.held = undefined;
    clearTimeout(this.timer);
    this.socket.destroy();
  }

  private onHead(head: ResponseHead): void {
    clearTimeout(this.timer);
    if (head.status !== 200) {
      return this.fail(new AcefleetError('engine_error', `playback answered HTTP ${head.status}`));
    }
    this.phase = 'playing';
    this.held = { bytes: [], ended: false };
    this.opened(this);
    setImmediate(() => this.release());
  }

  /** Hand on what was held since the head (see `held`), once. */
  private release(): void {
    const held = this.held;
    this.held = undefined;
    if (!held) return;
    for (const bytes of held.bytes) if (this.phase === 'playing') this.handlers.data(bytes);
    if (held.ended) this.end();
  }

  private end(): void {
    if (this.phase !== 'playing') return;
    this.destroy();
    this.handlers.end();
  }

  private onBytes(bytes: Buffer): void {
    this.release();
    if (this.phase === 'over') return;
    try {
      this.decoder.push(bytes);
    } catch (err) {
      const error =
        err instanceof AcefleetError
          ? err
          : new AcefleetError('engine_error', 'playback failed', { cause: err });
      this.fail(error);
    }
  }

  private onClose(): void {
    this.release();
    // A body without framing ends with its connection: complete() has told the holder.
    if (this.phase === 'over' || this.decoder.close() === 'complete') return;
    const when = this.phase === 'opening' ? 'before answering' : 'mid-body';
    this.fail(new AcefleetError('engine_error', `playback: the engine closed the connection ${when}`));
  }

  private fail(error: AcefleetError): void {
    this.release();
    const was = this.phase;
    this.destroy();
    if (was === 'opening') this.refused(error);
    else if (was === 'playing') this.handlers.error(error);
  }
}

/**
 * Open a media body (GET `playbackUrl`, HTTP/1.1) and relay its bytes as they arrive, undecoded (see
 * PlaybackHandlers). Resolves once a 200 head arrives; rejects with `engine_timeout` when none comes within
 * `timeoutMs`, and with `engine_error` on another status, a broken connection or a malformed response.
 */
export function openPlaybackBody(
  playbackUrl: string,
  timeoutMs: number,
  handlers: PlaybackHandlers,
): Promise<PlaybackBody> {
  const url = new URL(playbackUrl);
  return new Promise((resolve, reject) => void new Playback(url, timeoutMs, handlers, resolve, reject));
}
