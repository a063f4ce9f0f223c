import net from 'node:net';

export interface RawHttpAnswer {
  /** Everything the server wrote (head and body), latin1; empty when it closed without a word. */
  text: string;
  /** The status of the first response line; 0 when there was none. */
  status: number;
  /** From connecting until the server closed the connection. */
  ms: number;
}

/**
 * Write `request` as is on a fresh connection to `url`'s host and port, and read everything until the server
 * closes it (or 20 s pass): for requests a client library would not send or would not show as sent.
 */
export function rawHttp(url: string, request: string): Promise<RawHttpAnswer> {
  const { hostname, port } = new URL(url);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.write(request));
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (c: string) => (text += c));
    socket.on('error', reject);
    socket.on('close', () =>
      resolve({
        text,
        status: Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1] ?? 0),
        ms: performance.now() - started,
      }),
    );
    socket.setTimeout(20_000, () => socket.destroy());
  });
}
