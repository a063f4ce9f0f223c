/**
 * Baseline for the fan-out benchmark: the simplest Node fan-out. One upstream request per process; every
 * chunk is written to every connected client as it arrives, no buffering policy, no backpressure handling.
 *
 *   node --import tsx bench/plain-fanout.ts <port> <upstream url>
 */
import http from 'node:http';

const [portArg = '0', upstream = ''] = process.argv.slice(2);
const clients = new Set<http.ServerResponse>();

http.get(upstream, (res) => {
  res.on('data', (chunk: Buffer) => {
    for (const c of clients) c.write(chunk);
  });
});

http
  .createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'video/mp2t' });
    clients.add(res);
    req.socket.on('close', () => clients.delete(res));
  })
  .listen(Number(portArg), '127.0.0.1', () => process.stdout.write('ready\n'));
