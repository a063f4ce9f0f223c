// How the engine starts a session: at once (default, so tests and `npm start` stay quick) or as engines in
// the field do, after 5-25 s of P2P warm-up (swarm discovery took 10-25 s in rust-acestream-proxy's
// measurements; the orchestrator waits up to 25 s). Warm-ups come from a seeded generator, so one seed gives
// one sequence of start times per process.

export const profileNames = ['default', 'field'] as const;
export type ProfileName = (typeof profileNames)[number];

export class ProfileError extends Error {
  override name = 'ProfileError';
  readonly code = 'BAD_PROFILE';
}

export function isProfileName(name: string): name is ProfileName {
  return (profileNames as readonly string[]).includes(name);
}

export interface Profile {
  readonly name: ProfileName;
  readonly seed: number;
  /** The warm-up of the next session: how long after its start its first media byte can come. */
  nextWarmupMs(): number;
}

/** mulberry32: a small, fast generator with a 32-bit state; good enough to spread start times. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const FIELD_MIN_MS = 5_000;
const FIELD_SPAN_MS = 20_000;

export function buildProfile(name: string, seed: number): Profile {
  if (!isProfileName(name)) {
    throw new ProfileError(`unknown profile "${name}" (known: ${profileNames.join(', ')})`);
  }
  const next = generator(seed);
  return {
    name,
    seed,
    // Field: the mean of two uniform draws, so starts near 15 s are common and 5 or 25 s rare.
    nextWarmupMs:
      name === 'field' ? () => Math.round(FIELD_MIN_MS + (FIELD_SPAN_MS * (next() + next())) / 2) : () => 0,
  };
}
