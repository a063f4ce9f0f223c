import type { EngineRecord } from '@acefleet/contracts';
import type { Logger } from '@acefleet/platform';
import type { EngineRuntime } from './runtime.ts';

export interface EngineAddressRules {
  hostId: string;
  httpPortRangeStart: number;
  httpPortRangeEnd: number;
  runtime: Pick<EngineRuntime, 'baseUrlOf'>;
}

/**
 * Whether this manager may hand out the engine of `rec` (belt and braces behind the NATS permissions that
 * let only engine-manager write the engines bucket): the record is of this host, and its baseUrl is exactly
 * where this host's runtime puts that engine on a port of this host's range. A forged record pointing
 * anywhere else is never handed to a proxy. Records were already checked against the schema when read.
 */
export function isOwnEngineAddress(rec: EngineRecord, rules: EngineAddressRules): boolean {
  if (rec.hostId !== rules.hostId) return false;
  let port: number;
  try {
    port = Number(new URL(rec.baseUrl).port);
  } catch {
    return false;
  }
  return (
    port >= rules.httpPortRangeStart &&
    port <= rules.httpPortRangeEnd &&
    rec.baseUrl === rules.runtime.baseUrlOf({ engineId: rec.id, httpPort: port })
  );
}

/** isOwnEngineAddress that logs each refused record of this host once (the address itself is not logged). */
export function ownEngineFilter(rules: EngineAddressRules, log: Logger): (rec: EngineRecord) => boolean {
  const reported = new Set<string>();
  return (rec) => {
    const ok = isOwnEngineAddress(rec, rules);
    if (!ok && rec.hostId === rules.hostId && !reported.has(rec.id)) {
      reported.add(rec.id);
      log.warn({ engineId: rec.id }, 'engine record not at an address of this host: never handed out');
    }
    return ok;
  };
}
