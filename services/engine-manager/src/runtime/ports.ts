import dgram from 'node:dgram';
import net from 'node:net';

/** Can we bind this port on this address right now? Guards against ports taken by foreign processes. */
function bindable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

/** Can we bind this UDP port on every address right now? (Peers reach an engine's P2P port over UDP too.) */
function bindableUdp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', () => {
      // A socket whose bind failed may not be running: closing it then throws, and there is nothing to close.
      try {
        socket.close();
      } catch {
        // Nothing was open.
      }
      resolve(false);
    });
    socket.bind(port, '0.0.0.0', () => socket.close(() => resolve(true)));
  });
}

/** Each engine takes two consecutive ports: HTTP and (for images that open one) HTTPS. */
export const PORTS_PER_ENGINE = 2;

/** How long a port that failed to bind at an engine's start is left out: another program holds it. */
export const REFUSED_PORT_MS = 10 * 60_000;

/** Where engines take ports of this host: their HTTP port on `http`, their P2P port on every address. */
export interface PortProbe {
  /** The address the HTTP port is bound or published on; absent when it is not (reached by container name). */
  http?: string;
  /** The P2P port is bound on this host's addresses too (not in a VPN container's namespace). */
  p2p: boolean;
}

/**
 * Hands out engine HTTP ports from a range, never one that a known engine or an in-flight provision holds,
 * nor (when engines take ports of this host) one that something else already listens on, HTTP or P2P. A
 * port whose engine then failed to bind (a race with another program) is left out for a while.
 */
export class PortAllocator {
  private readonly reserved = new Set<number>();
  /** HTTP port -> until when it is left out (epoch ms). */
  private readonly refused = new Map<number, number>();

  constructor(
    private readonly start: number,
    private readonly end: number,
    private readonly probe: PortProbe | undefined,
  ) {}

  /** An HTTP port for a new engine; `p2pOf` says which P2P port that engine would take with it. */
  async allocate(inUse: Iterable<number>, p2pOf?: (httpPort: number) => number): Promise<number | undefined> {
    const taken = new Set(inUse);
    const now = Date.now();
    for (const [port, until] of this.refused) if (until <= now) this.refused.delete(port);
    for (let port = this.start; port + PORTS_PER_ENGINE - 1 <= this.end; port += PORTS_PER_ENGINE) {
      if (taken.has(port) || this.reserved.has(port) || this.refused.has(port)) continue;
      this.reserved.add(port);
      if (this.probe === undefined || (await this.free(this.probe, port, p2pOf?.(port)))) return port;
      this.reserved.delete(port);
    }
    return undefined;
  }

  private async free(probe: PortProbe, port: number, p2pPort: number | undefined): Promise<boolean> {
    const http = probe.http;
    if (http !== undefined) {
      for (let p = port; p < port + PORTS_PER_ENGINE; p++) if (!(await bindable(http, p))) return false;
    }
    if (!probe.p2p || p2pPort === undefined) return true;
    return (await bindable('0.0.0.0', p2pPort)) && (await bindableUdp(p2pPort));
  }

  /** The port is now recorded on its engine (or was never used). */
  settle(port: number): void {
    this.reserved.delete(port);
  }

  /** An engine on this HTTP port failed to bind one of its ports: leave the port out for REFUSED_PORT_MS. */
  refuse(port: number): void {
    this.refused.set(port, Date.now() + REFUSED_PORT_MS);
  }
}

/** Did an engine's start fail because a port it needs is held by something else? */
export function isPortConflict(err: unknown): boolean {
  return /address already in use|port is already allocated|EADDRINUSE/i.test(String(err));
}

export function portOf(baseUrl: string): number {
  return Number(new URL(baseUrl).port);
}
