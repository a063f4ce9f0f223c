import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GluetunSim {
  url: string;
  /** Forward another port (0: none forwarded). */
  setForwardedPort(port: number): void;
  /** Tunnel down: no public IP reported (the control server still answers). */
  setTunnelUp(up: boolean): void;
  close(): Promise<void>;
}

/**
 * A stand-in for Gluetun's control server: `GET /v1/portforward` (or, with `legacyOnly`, only the older
 * `GET /v1/openvpn/portforwarded`) answers `{"port": N}`, `GET /v1/publicip/ip` `{"public_ip": "..."}`
 * (empty while the tunnel is down), anything else 404. With `apiKey`, like Gluetun ≥ v3.39.1 with an
 * `auth = "apikey"` role, a request without that key in X-API-Key is refused with 401.
 */
export async function startGluetunSim(opts: {
  forwardedPort: number;
  legacyOnly?: boolean;
  apiKey?: string;
}): Promise<GluetunSim> {
  let port = opts.forwardedPort;
  let up = true;
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (opts.apiKey && req.headers['x-api-key'] !== opts.apiKey) return send(401, { error: 'unauthorized' });
    if (req.method !== 'GET') return send(405, { error: 'method not allowed' });
    if (path === '/v1/openvpn/portforwarded' || (path === '/v1/portforward' && !opts.legacyOnly)) {
      return send(200, { port: up ? port : 0 });
    }
    if (path === '/v1/publicip/ip') return send(200, { public_ip: up ? '203.0.113.7' : '' });
    return send(404, { error: 'not found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: listenPort } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${listenPort}`,
    setForwardedPort: (p) => (port = p),
    setTunnelUp: (u) => (up = u),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
