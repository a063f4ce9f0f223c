import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { relay } from './socket-relay.ts';

const run = promisify(execFile);

export interface TlsRelay {
  /** `https://127.0.0.1:<port>`: the plain-HTTP target, over TLS. */
  url: string;
  /** PEM file of the relay's self-signed certificate: give it to a client as NODE_EXTRA_CA_CERTS. */
  caPath: string;
  close(): Promise<void>;
}

/**
 * A TLS-terminating relay in front of a plain TCP server (e.g. ace-sim), so a test can reach an engine over
 * https. Its certificate, for 127.0.0.1, is made by `openssl req` for this relay alone.
 */
export async function startTlsRelay(targetPort: number, targetHost = '127.0.0.1'): Promise<TlsRelay> {
  const dir = await mkdtemp(path.join(tmpdir(), 'acefleet-tls-'));
  const [keyPath, caPath] = [path.join(dir, 'key.pem'), path.join(dir, 'cert.pem')];
  await run('openssl', [
    ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1'],
    ...['-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyPath, '-out', caPath],
  ]);
  const open = new Set<net.Socket>();
  const server = tls.createServer({ key: await readFile(keyPath), cert: await readFile(caPath) }, (client) =>
    relay(client, net.connect(targetPort, targetHost), open),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    caPath,
    async close() {
      for (const s of open) s.destroy();
      await new Promise((resolve) => server.close(resolve));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
