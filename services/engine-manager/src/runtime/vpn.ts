import { redactCredentials } from '@acefleet/contracts';
import type { Logger } from '@acefleet/platform';

export interface VpnState {
  up: boolean;
  /** Gluetun's forwarded port; 0 while none is forwarded. */
  forwardedPort: number;
  reason?: string;
}

export interface VpnWatcherOptions {
  /** Gluetun's control server; userinfo in it (`http://user:pass@gluetun:8000`) is sent as basic auth. */
  controlUrl: string;
  /** Sent as X-API-Key, for a Gluetun role with `auth = "apikey"`; empty: none sent. */
  apiKey: string;
  pollIntervalMs: number;
  /** Docker health of the VPN container, when engines share its namespace (undefined: not known). */
  containerHealth?: () => Promise<string | undefined>;
}

interface ControlTarget {
  base: string;
  headers: Record<string, string>;
}

/** The control URL without its userinfo, and the headers that carry the credentials instead. */
function controlTarget(controlUrl: string, apiKey: string): ControlTarget {
  let url: URL;
  try {
    url = new URL(controlUrl);
  } catch {
    throw new Error(`GLUETUN_CONTROL_URL is not a URL: ${redactCredentials(controlUrl)}`);
  }
  const headers: Record<string, string> = {};
  if (url.username || url.password) {
    const userinfo = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    headers.authorization = `Basic ${Buffer.from(userinfo).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  if (apiKey) headers['x-api-key'] = apiKey;
  return { base: url.toString().replace(/\/$/, ''), headers };
}

async function getJson(
  target: ControlTarget,
  path: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${target.base}${path}`, {
    headers: target.headers,
    signal: AbortSignal.timeout(2000),
  });
  const body = res.ok ? ((await res.json()) as Record<string, unknown>) : {};
  return { status: res.status, body };
}

/**
 * Watches a Gluetun VPN through its control server: the tunnel is up when Gluetun reports a public IP (and
 * its container, if known, is not unhealthy); the forwarded port comes from `/v1/portforward`, or from the
 * older `/v1/openvpn/portforwarded`. A change of forwarded port is reported once per change. A control
 * server that refuses our credentials (401/403) is reported as such, not as a tunnel that is down.
 */
export class VpnWatcher {
  state: VpnState = { up: false, forwardedPort: 0, reason: 'not checked yet' };
  private timer: NodeJS.Timeout | undefined;
  private readonly target: ControlTarget;

  constructor(
    private readonly opts: VpnWatcherOptions,
    private readonly log: Logger,
    private readonly onPortChange: (previous: number, next: number) => void,
  ) {
    this.target = controlTarget(opts.controlUrl, opts.apiKey);
  }

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
      reason: `gluetun control server unreachable: ${redactCredentials(err instanceof Error ? err.message : String(err))}`,
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
    const health = await this.opts.containerHealth?.();
    const ip = await getJson(this.target, '/v1/publicip/ip');
    let pf = await getJson(this.target, '/v1/portforward');
    if (pf.status === 404) pf = await getJson(this.target, '/v1/openvpn/portforwarded');
    const port = typeof pf.body.port === 'number' ? pf.body.port : 0;
    const publicIp = typeof ip.body.public_ip === 'string' ? ip.body.public_ip : '';
    const keep = { forwardedPort: port > 0 ? port : this.state.forwardedPort };
    const refused = [ip.status, pf.status].find((s) => s === 401 || s === 403);
    if (refused) {
      return {
        up: false,
        ...keep,
        reason: `refused by Gluetun (HTTP ${refused}): check GLUETUN_API_KEY or the control URL's credentials`,
      };
    }
    if (health === 'unhealthy' || health === 'stopped') {
      return { up: false, ...keep, reason: `VPN container is ${health}` };
    }
    if (!publicIp) return { up: false, ...keep, reason: 'tunnel down: gluetun reports no public IP' };
    return { up: true, forwardedPort: port };
  }
}
