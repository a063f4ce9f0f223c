/**
 * The life of a stream (one channel, every output) as an explicit machine: which states exist, which moves
 * between them are allowed, and the decisions that pick the next move. Pure: the stream (stream.ts) owns
 * the state and performs the moves; this module only says what may happen, so it is tested without sockets
 * or engines. `moving`: the engine failed (or stalls, or is drained) and another is being attached.
 *
 *   starting ──media──▶ playing ──last player left──▶ lingering ──player──▶ playing
 *       │               │    ▲                          │
 *       │    engine lost │    │ media from another       └──linger over──▶ ended
 *       │               ▼    │
 *       └──────────────▶ moving ─────────────deadline, no engine──────────▶ ended
 */
export const StreamStates = {
  starting: 'starting',
  playing: 'playing',
  moving: 'moving',
  lingering: 'lingering',
  ended: 'ended',
} as const;
export type StreamState = (typeof StreamStates)[keyof typeof StreamStates];

const MOVES: Record<StreamState, readonly StreamState[]> = {
  starting: ['playing', 'ended'],
  playing: ['moving', 'lingering', 'ended'],
  moving: ['playing', 'ended'],
  lingering: ['playing', 'ended'],
  ended: [],
};

export function canMove(from: StreamState, to: StreamState): boolean {
  return MOVES[from].includes(to);
}

/** A move the table forbids: a bug in the stream, never a runtime condition. */
export class IllegalMoveError extends Error {
  override readonly name = 'IllegalMoveError';
  constructor(
    readonly from: StreamState,
    readonly to: StreamState,
  ) {
    super(`a stream cannot move from ${from} to ${to}`);
  }
}

/** The checked move: the next state, or the error that says it is not allowed. */
export function move(from: StreamState, to: StreamState): StreamState {
  if (!canMove(from, to)) throw new IllegalMoveError(from, to);
  return to;
}

/** What the stream knows when its upstream failed, to decide between another engine and the end. */
export interface LossContext {
  state: StreamState;
  contentUnavailable: boolean;
  /** An engine was claimed and failed (not: none could be had). */
  engineFailed: boolean;
  waiters: number;
  viewers: number;
  startRetriesUsed: number;
  startRetries: number;
  /** How long the first player has waited for the start. */
  waitedMs: number;
  startPatienceMs: number;
  /** Time left before a moving stream gives up (≤ 0: none). */
  recoverLeftMs: number;
}

/**
 * Another engine may help: the content exists and players wait, within their patience or the failover
 * deadline. A start is retried only after an engine failed it: when none could be had, asking again would
 * only keep the players waiting.
 */
export function mayRetry(c: LossContext): boolean {
  if (c.contentUnavailable) return false;
  if (c.state === 'starting') {
    const patient = c.waitedMs < c.startPatienceMs;
    return c.engineFailed && c.waiters > 0 && c.startRetriesUsed < c.startRetries && patient;
  }
  return c.state === 'moving' && c.viewers > 0 && c.recoverLeftMs > 0;
}

/**
 * The last player left (or gave up waiting): what now. A start nobody waits for stops rather than hold an
 * engine, as does any stream when linger is off; otherwise a moving stream decides once bytes flow again
 * and a playing one lingers, so a returning viewer starts instantly.
 */
export function whenEmpty(state: StreamState, lingerMs: number): 'end' | 'linger' | 'stay' {
  if (state === 'ended' || state === 'lingering') return 'stay';
  if (state === 'starting' || lingerMs <= 0) return 'end';
  return state === 'moving' ? 'stay' : 'linger';
}
