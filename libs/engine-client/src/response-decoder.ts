import { AcefleetError } from '@acefleet/contracts';

/** The most a response head (status line and headers) may take. */
export const MAX_HEAD_BYTES = 16 * 1024;
/** The most a chunk-size line (hex size and extensions) or trailer line may take. */
const MAX_LINE_BYTES = 1024;

export interface ResponseHead {
  status: number;
  /** Header names lower-cased; a repeated header keeps its values joined by ", ". */
  headers: ReadonlyMap<string, string>;
}

/** What a decoder hands on. `body` gets views of the pushed bytes: valid only during the call. */
export interface DecodedResponse {
  head(head: ResponseHead): void;
  body(bytes: Buffer): void;
  /** The body ended where its framing said (chunked terminator or Content-Length); called once. */
  complete(): void;
}

type State =
  'head' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'trailer' | 'length' | 'until-close' | 'done';

/** How a connection's end leaves the response: whole, or cut short of what its framing promised. */
export type CloseResult = 'complete' | 'truncated';

function malformed(what: string): AcefleetError {
  return new AcefleetError('engine_error', `playback: malformed response (${what})`);
}

/**
 * An incremental HTTP/1.1 response decoder for one long media body: the head, then the body by its framing
 * (chunked, Content-Length, or until the connection closes). Body bytes are handed on as views of what was
 * pushed, never copied; only a line split across two reads (at most MAX_HEAD_BYTES) is kept between pushes.
 * It lets the proxy read engine sockets into one reused buffer instead of a fresh one per read (see
 * playback-body.ts). Throws `engine_error` on a response it cannot frame.
 */
export class ResponseDecoder {
  private state: State = 'head';
  /** A line begun in an earlier push (copied). */
  private partial: Buffer | undefined;
  private headBytes = 0;
  private status = 0;
  private readonly headers = new Map<string, string>();
  /** Bytes left in the current chunk, or in a Content-Length body. */
  private left = 0;

  constructor(private readonly out: DecodedResponse) {}

  push(data: Buffer): void {
    let at = 0;
    while (at < data.length && this.state !== 'done') {
      if (this.state === 'chunk-data' || this.state === 'length' || this.state === 'until-close') {
        at = this.body(data, at);
        continue;
      }
      const end = data.indexOf(0x0a, at);
      const limit = this.state === 'head' ? MAX_HEAD_BYTES - this.headBytes : MAX_LINE_BYTES;
      if (end < 0) {
        this.keepPartial(data.subarray(at), limit);
        return;
      }
      const line = this.takeLine(data.subarray(at, end + 1), limit);
      at = end + 1;
      this.onLine(line);
    }
  }

  /** The connection closed: a body without framing ends here; any other unfinished response was cut short. */
  close(): CloseResult {
    if (this.state === 'until-close') {
      this.state = 'done';
      this.out.complete();
    }
    return this.state === 'done' ? 'complete' : 'truncated';
  }

  private body(data: Buffer, at: number): number {
    const n = this.state === 'until-close' ? data.length - at : Math.min(this.left, data.length - at);
    if (n > 0) this.out.body(data.subarray(at, at + n));
    this.left -= n;
    if (this.left === 0 && this.state === 'chunk-data') this.state = 'chunk-end';
    else if (this.left === 0 && this.state === 'length') this.finish();
    return at + n;
  }

  private keepPartial(rest: Buffer, limit: number): void {
    const size = (this.partial?.length ?? 0) + rest.length;
    if (size > limit) throw malformed(this.state === 'head' ? 'head too long' : 'line too long');
    this.partial = this.partial ? Buffer.concat([this.partial, rest]) : Buffer.from(rest);
  }

  /** The line without its CR LF (a bare LF is accepted), joined to what an earlier push began. */
  private takeLine(piece: Buffer, limit: number): string {
    const whole = this.partial ? Buffer.concat([this.partial, piece]) : piece;
    this.partial = undefined;
    if (whole.length > limit) throw malformed(this.state === 'head' ? 'head too long' : 'line too long');
    if (this.state === 'head') this.headBytes += whole.length;
    const cut = whole.length >= 2 && whole[whole.length - 2] === 0x0d ? 2 : 1;
    return whole.toString('latin1', 0, whole.length - cut);
  }

  private onLine(line: string): void {
    switch (this.state) {
      case 'head':
        return this.headLine(line);
      case 'chunk-size': {
        const size = /^([0-9a-fA-F]{1,8})[ \t]*(?:;.*)?$/.exec(line);
        if (!size) throw malformed('bad chunk size');
        this.left = parseInt(size[1]!, 16);
        this.state = this.left === 0 ? 'trailer' : 'chunk-data';
        return;
      }
      case 'chunk-end':
        if (line !== '') throw malformed('chunk longer than its size');
        this.state = 'chunk-size';
        return;
      case 'trailer':
        if (line === '') this.finish();
        return;
      default:
        return;
    }
  }

  private headLine(line: string): void {
    if (this.status === 0) {
      const status = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(line);
      if (!status) throw malformed('bad status line');
      this.status = Number(status[1]);
      return;
    }
    if (line !== '') {
      const colon = line.indexOf(':');
      if (colon <= 0) throw malformed('bad header line');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      const before = this.headers.get(name);
      this.headers.set(name, before === undefined ? value : `${before}, ${value}`);
      return;
    }
    this.state = this.framing();
    this.out.head({ status: this.status, headers: this.headers });
    if (this.state === 'length' && this.left === 0) this.finish();
  }

  /** How the body is framed: chunked wins over Content-Length (RFC 9112 §6.3); neither: until close. */
  private framing(): State {
    const coding = this.headers.get('transfer-encoding');
    if (coding !== undefined) {
      if (!/(?:^|,)\s*chunked\s*$/i.test(coding)) throw malformed(`transfer-encoding ${coding}`);
      return 'chunk-size';
    }
    const length = this.headers.get('content-length');
    if (length === undefined) return 'until-close';
    if (!/^\d{1,15}$/.test(length)) throw malformed('bad content-length');
    this.left = Number(length);
    return 'length';
  }

  private finish(): void {
    this.state = 'done';
    this.out.complete();
  }
}
