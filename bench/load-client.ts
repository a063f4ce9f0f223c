/**
 * Load generator for the fan-out benchmark, run as its own process: opens `clients` HTTP connections to
 * `url`, ramped evenly over `rampMs`, then counts what each one receives during `windowMs`. Reads into one
 * shared buffer (socket `onread`) so the client costs as little CPU as possible. Prints one JSON line.
 *
 *   node --import tsx bench/load-client.ts <url> <clients> <rampMs> <windowMs> [streams] [holdMs]
 *
 * With `streams` > 1, `{i}` in the url is replaced by the client's stream index (clients round-robin). It
 * records each client's time to its first byte (bytes include the response head). It prints `window` when the counting window opens (so the caller can sample the proxy's CPU), the result
 * when it closes, then keeps its clients connected for `holdMs` (the caller measures late joiners then,
 * from another process: this one is too busy reading to time them fairly).
 */
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

interface Client {
  bytes: number;
  closed: boolean;
  openedAt: number;
  /** Time from connect to the first byte received (-1: none yet). */
  firstByteMs: number;
}

const [url = '', clientsArg = '1', rampArg = '5000', windowArg = '10000', streamsArg = '1', holdArg = '0'] =
  process.argv.slice(2);
const clients: Client[] = [];
const sink = Buffer.alloc(256 * 1024);

function open(index: number): Client {
  const target = new URL(url.replace('{i}', String(index % Number(streamsArg)).padStart(40, '0')));
  const client: Client = { bytes: 0, closed: false, openedAt: performance.now(), firstByteMs: -1 };
  const socket = net.connect({
    host: target.hostname,
    port: Number(target.port),
    onread: {
      buffer: sink,
      callback: (n: number) => {
        if (client.bytes === 0) client.firstByteMs = performance.now() - client.openedAt;
        client.bytes += n;
        return true;
      },
    },
  });
  socket.on('error', () => (client.closed = true));
  socket.on('close', () => (client.closed = true));
  socket.write(
    `GET ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\nConnection: close\r\n\r\n`,
  );
  clients.push(client);
  return client;
}

const total = Number(clientsArg);
const rampMs = Number(rampArg);
const windowMs = Number(windowArg);
const rampStart = performance.now();
for (let i = 0; i < total; i++) {
  open(i);
  const due = rampStart + ((i + 1) * rampMs) / total;
  const wait = due - performance.now();
  if (wait > 1) await sleep(wait);
}
await sleep(1000); // let the last joiners settle
const before = clients.map((c) => c.bytes);
process.stdout.write('window\n');
const windowStart = performance.now();
await sleep(windowMs);
const seconds = (performance.now() - windowStart) / 1000;
const rates = clients.map((c, i) => ((c.bytes - before[i]!) * 8) / seconds);
process.stdout.write(
  `${JSON.stringify({
    clients: total,
    seconds,
    rates,
    firstByteMs: clients.map((c) => c.firstByteMs),
    closed: clients.filter((c) => c.closed).length,
  })}\n`,
);
await sleep(Number(holdArg));
process.exit(0);
