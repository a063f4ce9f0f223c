import type { EngineRecord } from '@acefleet/contracts';

export interface OracleRules {
  /** A claim its holder no longer renews must be gone this long after its last renewal (TTL + sweep slack). */
  expiryGraceMs: number;
  /**
   * How long another engine must have been playing the content with room before a placement elsewhere
   * counts as breaking content affinity: the time any manager may take to see a KV change.
   */
  affinityLagMs: number;
}

const hasRoom = (r: EngineRecord): boolean =>
  (r.state === 'ready' || r.state === 'starting') && r.claims.length < r.capacity;

/**
 * Checks the claim-path properties on every change of the engines bucket, in the bucket's own order:
 * claims within capacity, no claim on two engines, one engine per content while it has room, and no claim
 * left once its holder stopped renewing it a claim TTL ago. Proxies tell it which claims they hold.
 */
export class ClaimOracle {
  readonly violations: string[] = [];
  /** Placements of a content on an engine not playing it yet (what the affinity rule judges). */
  newPlacements = 0;
  /** The longest another engine had played the content with room when it was placed elsewhere anyway. */
  longestPassedOverMs = 0;
  private readonly engines = new Map<string, EngineRecord>();
  /** Per engine: contents it plays with room, and since when it has without a break. */
  private readonly roomSince = new Map<string, Map<string, number>>();
  private readonly claimEngine = new Map<string, string>();
  private readonly firstSeen = new Map<string, number>();
  private readonly held = new Set<string>();
  private readonly lastHeld = new Map<string, number>();
  private readonly overdue = new Set<string>();

  constructor(private readonly rules: OracleRules) {}

  /** A live proxy holds the claim (acquired or renewed at `at`). */
  holding(claimId: string, at: number): void {
    this.held.add(claimId);
    this.lastHeld.set(claimId, at);
  }

  /** Its holder released it, forgot it, or died. */
  dropped(claimId: string): void {
    this.held.delete(claimId);
  }

  onChange(id: string, record: EngineRecord | undefined, now = Date.now()): void {
    const before = this.engines.get(id);
    for (const c of record?.claims ?? []) {
      if (before?.claims.some((b) => b.claimId === c.claimId)) continue;
      const elsewhere = this.claimEngine.get(c.claimId);
      if (elsewhere && elsewhere !== id) this.fail(`claim ${c.claimId} on ${id} and ${elsewhere}`);
      this.claimEngine.set(c.claimId, id);
      this.firstSeen.set(c.claimId, now);
      if (!before?.claims.some((b) => b.contentKey === c.contentKey))
        this.judgePlacement(id, c.contentKey, now);
    }
    for (const c of before?.claims ?? []) {
      if (!record?.claims.some((r) => r.claimId === c.claimId)) this.claimEngine.delete(c.claimId);
    }
    if (record && record.claims.length > record.capacity) {
      this.fail(`${id} holds ${record.claims.length} claims, capacity ${record.capacity}`);
    }
    if (record) this.engines.set(id, record);
    else this.engines.delete(id);
    this.trackRoom(id, record, now);
  }

  /** `contentKey` went to engine `id`, which did not play it: no other engine may have had room for it. */
  private judgePlacement(id: string, contentKey: string, now: number): void {
    this.newPlacements++;
    for (const [other, since] of this.roomSince) {
      const from = since.get(contentKey);
      if (other === id || from === undefined) continue;
      this.longestPassedOverMs = Math.max(this.longestPassedOverMs, now - from);
      if (now - from > this.rules.affinityLagMs) {
        this.fail(`${contentKey} placed on ${id} while ${other} played it with room for ${now - from} ms`);
      }
    }
  }

  private trackRoom(id: string, record: EngineRecord | undefined, now: number): void {
    const playing = new Set(record && hasRoom(record) ? record.claims.map((c) => c.contentKey) : []);
    const since = this.roomSince.get(id) ?? new Map<string, number>();
    for (const key of since.keys()) if (!playing.has(key)) since.delete(key);
    for (const key of playing) if (!since.has(key)) since.set(key, now);
    if (since.size > 0) this.roomSince.set(id, since);
    else this.roomSince.delete(id);
  }

  /** Claims still recorded although no live proxy has renewed them for longer than the expiry grace. */
  checkExpiry(now = Date.now()): void {
    for (const [claimId, engineId] of this.claimEngine) {
      if (this.held.has(claimId) || this.overdue.has(claimId)) continue;
      const last = this.lastHeld.get(claimId) ?? this.firstSeen.get(claimId) ?? now;
      if (now - last > this.rules.expiryGraceMs) {
        this.overdue.add(claimId);
        this.fail(`claim ${claimId} on ${engineId} outlived its holder by ${now - last} ms`);
      }
    }
  }

  claimsRecorded(): number {
    return this.claimEngine.size;
  }

  private fail(what: string): void {
    if (this.violations.length < 20) this.violations.push(what);
  }
}
