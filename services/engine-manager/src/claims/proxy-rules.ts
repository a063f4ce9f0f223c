import { AcefleetError, proxyNameOf, type EngineRecord } from '@acefleet/contracts';
import type { Logger } from '@acefleet/platform';

/**
 * What a proxy may ask of the manager, whatever its request says: it acts only for proxy ids of its own name
 * (`<name>.<run>`, the name being the NATS user its call came under), and holds at most `maxClaimsPerProxy`
 * claims on the fleet. Before issue 22 the manager took any proxy id and any number of adopted claims.
 */
export class ProxyRules {
  constructor(
    private readonly records: () => EngineRecord[],
    private readonly maxClaimsPerProxy: number,
    private readonly log: Logger,
  ) {}

  /** Throws `forbidden` (logged) unless `caller`, the name the call came under, names `proxyId`. */
  assertActsFor(proxyId: string, caller: string, what: string): void {
    if (proxyNameOf(proxyId) === caller) return;
    this.log.warn({ caller, proxyId, what }, 'refused: a proxy acting for another');
    throw new AcefleetError('forbidden', `proxy "${caller}" may not ${what} for proxy id "${proxyId}"`);
  }

  /**
   * How many more claims `proxyId` may hold on the fleet now. Its standby claims do not count: they hold
   * only room no stream needs, and give it up to the first that does.
   */
  room(proxyId: string): number {
    let held = 0;
    for (const r of this.records()) for (const c of r.claims) if (c.proxyId === proxyId && !c.standby) held++;
    return Math.max(0, this.maxClaimsPerProxy - held);
  }

  /** Throws `capacity_exhausted` (logged) when `proxyId` holds its maximum of claims. */
  assertRoom(proxyId: string): void {
    if (this.room(proxyId) > 0) return;
    const { maxClaimsPerProxy } = this;
    this.log.warn({ proxyId, maxClaimsPerProxy }, 'refused: the proxy holds its maximum of claims');
    throw new AcefleetError(
      'capacity_exhausted',
      `proxy id "${proxyId}" holds its maximum of ${maxClaimsPerProxy} claims`,
      { retryAfterMs: 5000 },
    );
  }

  /** Log the offers `record` does not hold for the proxy after a renewal: no room, over its bound, no engine. */
  reportRefusedOffers(
    engineId: string,
    proxyId: string,
    offers: readonly { claimId: string }[],
    record: EngineRecord | undefined,
  ): void {
    const held = new Set(record?.claims.filter((c) => c.proxyId === proxyId).map((c) => c.claimId) ?? []);
    const refused = offers.filter((o) => !held.has(o.claimId)).length;
    if (refused === 0) return;
    const why = record
      ? 'no room on the engine, or the proxy is at MAX_CLAIMS_PER_PROXY'
      : 'not an engine here';
    this.log.warn({ engineId, proxyId, refused, why }, 'refused adoption offers');
  }
}
