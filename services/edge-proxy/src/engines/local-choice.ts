import {
  AcefleetError,
  contentKeyOf,
  staticEngineId,
  type ContentRef,
  type EngineRecord,
} from '@acefleet/contracts';
import type { Logger } from '@acefleet/platform';
import type { EngineLease } from './engine-lease.ts';
import type { LocalLeases } from './local-leases.ts';

/** An engine the proxy could choose by itself, and how many sessions it may hold there. */
interface Candidate {
  engineId: string;
  baseUrl: string;
  room: number;
  /** An engine of the fleet (from the engines table), whose manager can adopt the lease. */
  ofFleet: boolean;
}

export interface LocalChoiceOptions {
  /** Engines to use when neither the manager nor the cache can help (base URLs). */
  staticEngines: string[];
  /** Sessions this proxy opens at most on one static engine (static engines have no record to say). */
  staticEngineCapacity: number;
  /**
   * Whether a cached engine lies where engines may be (ENGINE_ADDRESSES, see engineAddressFilter): the
   * manager's address rule, applied to the engines the proxy chooses by itself. Reports each refused one.
   */
  engineAllowed: (engine: EngineRecord) => boolean;
}

/** How long a player refused for lack of engine capacity should wait before trying again. */
export const FULL_RETRY_AFTER_MS = 5000;

/**
 * The engines the proxy picks by itself when the manager does not answer: a ready engine with room from the
 * live copy of the engines bucket (one already playing the content first, then the least loaded), else a
 * static engine. Its leases are counted per engine (local-leases.ts) so no engine gets more than its room.
 */
export class LocalChoice {
  private staticTurn = 0;

  constructor(
    private readonly table: { records(): EngineRecord[] } | undefined,
    private readonly leases: LocalLeases,
    private readonly opts: LocalChoiceOptions,
    private readonly log: Logger,
  ) {}

  /**
   * Cooling down is a preference, not a ban: when every engine this proxy knows is cooling down, one of them
   * is tried rather than refusing the player (only the engines that failed this very stream stay excluded).
   */
  choose(
    content: ContentRef,
    avoid: ReadonlySet<string>,
    exclude: ReadonlySet<string>,
    cause: unknown,
  ): EngineLease {
    try {
      return this.chooseAmong(content, avoid, cause);
    } catch (err) {
      const none = err instanceof AcefleetError && err.code === 'no_engine_available';
      if (!none || avoid.size === exclude.size) throw err;
      this.log.warn('every known engine is cooling down: trying one of them');
      return this.chooseAmong(content, exclude, cause);
    }
  }

  /**
   * A static engine with room for a hot standby, when no manager places it: never a fleet engine (its
   * manager would count the lease as a stream's claim when it adopts it). Undefined when none has room.
   */
  chooseStandby(content: ContentRef, exclude: ReadonlySet<string>): EngineLease | undefined {
    const chosen = this.staticEngines(exclude).find((c) => this.leases.count(c.engineId) < c.room);
    if (!chosen) return undefined;
    const { engineId, baseUrl } = chosen;
    return { engineId, baseUrl, claimId: this.leases.add(engineId, undefined) };
  }

  /** A cached engine with room, else a static one with room; the lease is counted until released. */
  private chooseAmong(content: ContentRef, exclude: ReadonlySet<string>, cause: unknown): EngineLease {
    const cached = this.cachedEngines(content, exclude);
    const candidates = cached.length > 0 ? cached : this.staticEngines(exclude);
    if (candidates.length === 0) {
      throw new AcefleetError('no_engine_available', 'no engine manager answered and no engine is known', {
        cause,
        retryAfterMs: FULL_RETRY_AFTER_MS,
      });
    }
    const chosen = candidates.find((c) => this.leases.count(c.engineId) < c.room);
    if (!chosen) {
      throw new AcefleetError('capacity_exhausted', 'every engine this proxy can reach is full', {
        cause,
        retryAfterMs: FULL_RETRY_AFTER_MS,
      });
    }
    const { engineId, baseUrl } = chosen;
    return {
      engineId,
      baseUrl,
      claimId: this.leases.add(engineId, chosen.ofFleet ? contentKeyOf(content) : undefined),
    };
  }

  /**
   * Ready engines of the cache, those already playing this content first, then the least loaded. `room` is
   * what the record left free when the manager was last heard (claims of every proxy).
   */
  private cachedEngines(content: ContentRef, exclude: ReadonlySet<string>): Candidate[] {
    const key = contentKeyOf(content);
    const score = (e: EngineRecord): number =>
      (e.claims.some((c) => c.contentKey === key) ? 0 : 1000) + e.claims.length / e.capacity;
    return (this.table?.records() ?? [])
      .filter((e) => e.state === 'ready' && !exclude.has(e.id) && this.opts.engineAllowed(e))
      .sort((a, b) => score(a) - score(b))
      .map((e) => ({
        engineId: e.id,
        baseUrl: e.baseUrl,
        room: e.capacity - e.claims.length,
        ofFleet: true,
      }));
  }

  /** The static engines, starting one further each time so sessions spread over them. */
  private staticEngines(exclude: ReadonlySet<string>): Candidate[] {
    const choices = this.opts.staticEngines
      .map((url) => ({
        engineId: staticEngineId(url),
        baseUrl: url,
        room: this.opts.staticEngineCapacity,
        ofFleet: false,
      }))
      .filter((c) => !exclude.has(c.engineId));
    const turn = this.staticTurn++ % Math.max(1, choices.length);
    return [...choices.slice(turn), ...choices.slice(0, turn)];
  }
}
