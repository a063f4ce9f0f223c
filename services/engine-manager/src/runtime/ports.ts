import net from 'node:net';

/** Can we bind this port on this address right now? Guards against ports taken by foreign processes. */
function bindable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

/** Each engine takes two consecutive ports: HTTP and (for images that open one) HTTPS. */
export const PORTS_PER_ENGINE = 2;

/**
 * Hands out engine HTTP ports from a range, never one that a known engine or an in-flight provision holds,
 * and (when engines share the host network) never one something else already listens on.
 */
export class PortAllocator {
  private readonly reserved = new Set<number>();

  constructor(
    private readonly start: number,
    private readonly end: number,
    private readonly probeHost: string | undefined,
  ) {}

  async allocate(inUse: Iterable<number>): Promise<number | undefined> {
    const taken = new Set(inUse);
    for (let port = this.start; port + PORTS_PER_ENGINE - 1 <= this.end; port += PORTS_PER_ENGINE) {
      if (taken.has(port) || this.reserved.has(port)) continue;
      this.reserved.add(port);
      if (this.probeHost === undefined || (await this.free(this.probeHost, port))) return port;
      this.reserved.delete(port);
    }
    return undefined;
  }

  private async free(host: string, port: number): Promise<boolean> {
    for (let p = port; p < port + PORTS_PER_ENGINE; p++) if (!(await bindable(host, p))) return false;
    return true;
  }

  /** The port is now recorded on its engine (or was never used). */
  settle(port: number): void {
    this.reserved.delete(port);
  }
}

export function portOf(baseUrl: string): number {
  return Number(new URL(baseUrl).port);
}
