import { Type } from '@sinclair/typebox';
import { ConfigError } from './config.ts';
import type { Logger } from '../logger.ts';

/**
 * Where engines may be, for the services that reach engines the manager did not hand them (the proxy's
 * fallback, health-monitor's probes and stat reads): ENGINE_ADDRESSES, the address rule of the managers'
 * hosts (services/engine-manager/src/runtime/engine-address.ts) written down. An engine record whose baseUrl lies
 * anywhere else (another local service, a host on the internet) is never contacted, even if it reached the
 * engines bucket.
 */
export const EngineAddressConfig = {
  engineAddresses: Type.String({
    default: '127.0.0.1:19000-19499',
    description:
      "where engines may be: comma-separated `host:port` or `host:first-last` (each host its managers' ENGINE_HOST and HTTP_PORT_RANGE_*; `{id}` in a host stands for the engine id, e.g. `acefleet-engine-{id}:19000-19499` for engines reached by container name). An engine elsewhere is never contacted.",
  }),
};

export interface EngineAddressRule {
  /** Host name or address, lower case; `{id}` stands for the engine id. */
  host: string;
  first: number;
  last: number;
}

/** `host:port` or `host:first-last`, comma separated (IPv6 in brackets). Throws a ConfigError naming the bad entry. */
export function parseEngineAddresses(text: string, variable = 'ENGINE_ADDRESSES'): EngineAddressRule[] {
  const entries = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return entries.map((entry) => {
    const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s/]+):(\d{1,5})(?:-(\d{1,5}))?$/.exec(entry);
    const first = Number(match?.[2]);
    const last = Number(match?.[3] ?? match?.[2]);
    if (!match || first < 1 || last > 65535 || last < first) {
      throw new ConfigError(
        `invalid configuration:\n  ${variable} (${JSON.stringify(entry)}): expected host:port or host:first-last`,
      );
    }
    return { host: match[1]!.toLowerCase(), first, last };
  });
}

/**
 * The host and port of an engine base URL, or undefined when it is not `http(s)://[user:password@]host:port`:
 * a path, query or fragment would put the engine's routes somewhere else. Credentials (an engine behind an
 * authenticating proxy) do not change where a request goes.
 */
export function engineHostPort(baseUrl: string): { host: string; port: number } | undefined {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    return undefined;
  }
  const bare = !url.search && !url.hash && (url.pathname === '/' || url.pathname === '');
  if (!bare || (url.protocol !== 'http:' && url.protocol !== 'https:')) return undefined;
  if (!/^https?:\/\/[^/?#]+\/?$/i.test(baseUrl)) return undefined;
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  return { host: url.hostname.toLowerCase(), port };
}

/** Whether engine `engineId` at `baseUrl` lies where `rules` put engines. */
export function isAllowedEngineAddress(
  rules: readonly EngineAddressRule[],
  baseUrl: string,
  engineId: string,
): boolean {
  const at = engineHostPort(baseUrl);
  if (!at) return false;
  return rules.some(
    (r) =>
      r.host.replaceAll('{id}', engineId.toLowerCase()) === at.host &&
      at.port >= r.first &&
      at.port <= r.last,
  );
}

/**
 * isAllowedEngineAddress that reports each refused engine once per address (the address is logged, since
 * it is what the operator must check; a record only the manager could have written names it).
 */
export function engineAddressFilter(
  rules: readonly EngineAddressRule[],
  log: Logger,
  what: string,
): (engine: { id: string; baseUrl: string }) => boolean {
  const reported = new Set<string>();
  return (engine) => {
    if (isAllowedEngineAddress(rules, engine.baseUrl, engine.id)) return true;
    const key = `${engine.id} ${engine.baseUrl}`;
    if (!reported.has(key)) {
      reported.add(key);
      log.warn(
        { engineId: engine.id, baseUrl: engine.baseUrl.slice(0, 200) },
        `engine outside ENGINE_ADDRESSES: never ${what}`,
      );
    }
    return false;
  };
}
