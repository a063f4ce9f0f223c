/**
 * Baseline for the fan-out benchmark: the simplest Node fan-out. One upstream session per channel (`?id=`),
 * opened on its first request; every chunk is written to every client of the channel as it arrives, no
 * buffering policy, no backpressure handling.
 *
 *   node --import tsx bench/plain-fanout.ts <port> <engine url>
 */
import http from 'node:http';

const [portArg = '0', engine = ''] = process.argv.slice(2);
const channels = new Map<string, Set<http.ServerResponse>>();

function open(id: string): Set<http.ServerResponse> {
  const clients = new Set<http.ServerResponse>();
  channels.set(id, clients);
  void fetch(`${engine}/ace/getstream?id=${id}&format=json&pid=plain-${id}`)
    .then(async (r) => ((await r.json()) as { response: { playback_url: string } }).response.playback_url)
    .then((playback) =>
      http.get(playback, (res) => {
        res.on('data', (chunk: Buffer) => {
          for (const c of clients) c.write(chunk);
        });
      }),
    )
    // A channel the engine refused just never gets bytes: its clients count as not served.
    .catch(() => undefined);
  return clients;
}

http
  .createServer((req, res) => {
    const id = new URL(req.url ?? '/', 'http://plain').searchParams.get('id');
    if (!id) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'video/mp2t' });
    const clients = channels.get(id) ?? open(id);
    clients.add(res);
    req.socket.on('close', () => clients.delete(res));
  })
  .listen(Number(portArg), '127.0.0.1', () => process.stdout.write('ready\n'));
