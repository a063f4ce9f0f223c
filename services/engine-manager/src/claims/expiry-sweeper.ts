import type { Logger } from '@acefleet/platform';
import { expiredClaims, withoutClaims } from './claim-changes.ts';
import type { ManagerMetrics } from '../metrics.ts';
import type { Provisioner } from '../lifecycle/provisioner.ts';
import type { EngineRegistry } from '../lifecycle/registry.ts';

/**
 * Claims expire: a proxy that stops renewing (it crashed, or lost NATS for good) loses its claims a TTL
 * after its last renewal, so its engines' room comes back. Each manager sweeps its own host's engines, the only ones it writes.
 */
export async function sweepExpiredClaims(
  registry: EngineRegistry,
  provisioner: Provisioner,
  ttlMs: number,
  log: Logger,
  metrics: ManagerMetrics,
  /** When this manager started leading the host (see expiredClaims). */
  ledSince: number,
): Promise<void> {
  for (const { record } of provisioner.ours()) {
    if (expiredClaims(record, Date.now(), ttlMs, ledSince).length === 0) continue;
    let expired: string[] = [];
    await registry.mutate(record.id, (rec) => {
      expired = expiredClaims(rec, Date.now(), ttlMs, ledSince).map((c) => c.claimId);
      return withoutClaims(rec, new Set(expired));
    });
    if (expired.length === 0) continue;
    metrics.claimsExpired.inc(expired.length);
    log.warn({ engineId: record.id, claimIds: expired }, 'claims expired: their proxy stopped renewing');
  }
}
