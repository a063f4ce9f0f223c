import type { Logger } from '@acefleet/platform';

export interface VpnState {
  up: boolean;
  /** Gluetun's forwarded port; 0 while none is forwarded. */
  forwardedPort: number;
  reason?: string;
}

export interface VpnWatcherOptions {
  controlUrl: string;
  pollIntervalMs: number;
  /** Docker health of the VPN container, when engines share its namespace (undefined: not known). */
  containerHealth?: () => Promise<string | undefined>;
}

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  const body = res.ok ? ((await res.json()) as Record<string, unknown>) : {};
  return { status: res.status, body };
}

/**
 * Watches a Gluetun VPN through its control server: the tunnel is up when Gluetun reports a public IP (and
 * its container, if known, is not unhealthy); the forwarded port comes from `/v1/portforward`, or from the
 * older `/v1/openvpn/portforwarded`. A change of forwarded port is reported once per change.
 */
export class VpnWatcher {
  state: VpnState = { up: false, forwardedPort: 0, reason: 'not checked yet' };
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly opts: VpnWatcherOptions,
    private readonly log: Logger,
    private readonly onPortChange: (previous: number, next: number) => void,
  ) {}

  get pollIntervalMs(): number {
    return this.opts.pollIntervalMs;
  }

  async start(): Promise<void> {
    await this.poll();
    this.timer = setInterval(() => void this.poll(), this.opts.pollIntervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async poll(): Promise<void> {
    const next = await this.check().catch((err: unknown): VpnState => ({
      up: false,
      forwardedPort: this.state.forwardedPort,
      reason: `gluetun control server unreachable: ${err instanceof Error ? err.message : String(err)}`,
    }));
    const previous = this.state;
    this.state = next;
    if (previous.up !== next.up) this.log.warn({ vpn: next }, next.up ? 'VPN up' : 'VPN down');
    if (next.up && next.forwardedPort > 0 && next.forwardedPort !== previous.forwardedPort) {
      this.log.info({ previous: previous.forwardedPort, next: next.forwardedPort }, 'VPN forwarded port');
      if (previous.forwardedPort > 0) this.onPortChange(previous.forwardedPort, next.forwardedPort);
    }
  }

  private async check(): Promise<VpnState> {
    const base = this.opts.controlUrl.replace(/\/$/, '');
    const health = await this.opts.containerHealth?.();
    const ip = await getJson(`${base}/v1/publicip/ip`);
    let pf = await getJson(`${base}/v1/portforward`);
    if (pf.status === 404) pf = await getJson(`${base}/v1/openvpn/portforwarded`);
    const port = typeof pf.body.port === 'number' ? pf.body.port : 0;
    const publicIp = typeof ip.body.public_ip === 'string' ? ip.body.public_ip : '';
    const keep = { forwardedPort: port > 0 ? port : this.state.forwardedPort };
    if (health === 'unhealthy' || health === 'stopped') {
      return { up: false, ...keep, reason: `VPN container is ${health}` };
    }
    if (!publicIp) return { up: false, ...keep, reason: 'tunnel down: gluetun reports no public IP' };
    return { up: true, forwardedPort: port };
  }
}
