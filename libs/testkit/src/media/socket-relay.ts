import net from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface SocketRelay {
  /** Unix socket path to give a client instead of the real one. */
  path: string;
  /** Cut every connection and refuse new ones (the daemon "goes away"), or relay again. */
  setAvailable(available: boolean): void;
  /** Connections clients have opened so far, refused ones included: how often the client tried. */
  connections(): number;
  close(): Promise<void>;
}

/** Pipe two sockets into each other, kept in `open` until either ends (then both are destroyed). */
export function relay(client: net.Socket, upstream: net.Socket, open: Set<net.Socket>): void {
  open.add(client).add(upstream);
  const forget = (): void => {
    client.destroy();
    upstream.destroy();
    open.delete(client);
    open.delete(upstream);
  };
  client.on('error', forget).on('close', forget);
  upstream.on('error', forget).on('close', forget);
  client.pipe(upstream).pipe(client);
}

/**
 * A unix-socket relay in front of another socket (e.g. /var/run/docker.sock), switchable off and on, so
 * tests can make a real daemon unavailable to one client without touching the daemon.
 */
export async function startSocketRelay(target: string): Promise<SocketRelay> {
  const dir = await mkdtemp(path.join(tmpdir(), 'acefleet-relay-'));
  const socketPath = path.join(dir, 'relay.sock');
  let available = true;
  let connections = 0;
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    connections++;
    if (!available) return void client.destroy();
    relay(client, net.connect(target), open);
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    path: socketPath,
    setAvailable(a) {
      available = a;
      if (!a) for (const s of open) s.destroy();
    },
    connections: () => connections,
    async close() {
      for (const s of open) s.destroy();
      await new Promise((resolve) => server.close(resolve));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
