import type { EngineRecord, EngineState } from '@acefleet/contracts';

/**
 * An engine's lifecycle: provisioning (`starting` on the wire) → ready → draining → removed, with unhealthy
 * beside ready. `removed` is no stored state: the record is deleted. The table lists every legal move; the
 * registry writes `state` only through `moved` (EngineRegistry.transition), so no module sets it by hand.
 */
export type EnginePhase = EngineState | 'removed';

const legalMoves: Record<EngineState, readonly EnginePhase[]> = {
  starting: ['ready', 'unhealthy', 'draining', 'removed'],
  ready: ['unhealthy', 'draining', 'removed'],
  unhealthy: ['ready', 'draining', 'removed'],
  // Draining again only moves the deadline earlier (a forced remove); nothing brings a draining engine back.
  draining: ['draining', 'removed'],
};

/** The states a record may be created in: provisioning, or an adopted container (probed ready or not). */
const entryStates: readonly EngineState[] = ['starting', 'ready', 'unhealthy'];

export class IllegalEngineMove extends Error {
  override readonly name = 'IllegalEngineMove';
  constructor(
    readonly engineId: string,
    readonly from: EnginePhase | 'new',
    readonly to: EnginePhase,
  ) {
    super(`engine ${engineId}: no move from ${from} to ${to}`);
  }
}

export function canMove(from: EngineState, to: EnginePhase): boolean {
  return legalMoves[from].includes(to);
}

/** Throws unless a record may be created in its state. */
export function assertEntry(record: EngineRecord): void {
  if (!entryStates.includes(record.state)) throw new IllegalEngineMove(record.id, 'new', record.state);
}

/** What a module asks of the lifecycle: move to `to`, if the engine is in one of `from` (and `when` agrees). */
export interface EngineMove {
  to: EngineState;
  from: readonly EngineState[];
  /** Why (draining, unhealthy): kept in `stateReason`, cleared on a move to ready. */
  reason?: string;
  /** Draining only: when the engine goes even with claims left. */
  drainDeadline?: string;
  /** A further condition on the current record (e.g. no claims landed meanwhile). */
  when?: (record: EngineRecord) => boolean;
}

/**
 * The record after `move`, or undefined when it does not apply (the engine is in none of `from`, or `when`
 * says no): the record moved on meanwhile, which is no error. A `from` naming an illegal move throws, at
 * once and whatever the record's state, so an illegal request never waits for the state that would show it.
 */
export function moved(record: EngineRecord, move: EngineMove): EngineRecord | undefined {
  for (const from of move.from) {
    if (!canMove(from, move.to)) throw new IllegalEngineMove(record.id, from, move.to);
  }
  if (!move.from.includes(record.state) || (move.when && !move.when(record))) return undefined;
  const { stateReason: _reason, drainDeadline: _deadline, ...rest } = record;
  return {
    ...rest,
    state: move.to,
    ...(move.to !== 'ready' && move.reason !== undefined ? { stateReason: move.reason.slice(0, 200) } : {}),
    ...(move.to === 'draining' && move.drainDeadline !== undefined
      ? { drainDeadline: move.drainDeadline }
      : {}),
  };
}
