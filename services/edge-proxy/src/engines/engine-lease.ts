import type { EndReason } from '@acefleet/contracts';
import type { NatsConnection } from '@acefleet/platform';

/** An engine this proxy may start a session on, and the claim that holds it. */
export interface EngineLease {
  engineId: string;
  baseUrl: string;
  /** The manager's claim, or one of the proxy's own (local-leases.ts) until the manager adopts it. */
  claimId: string;
}

/** The engine that just failed a stream's start, told to the manager so it places the retry elsewhere. */
export interface EngineFailure {
  engineId: string;
  reason: EndReason;
}

/** The connection to ask the manager over, while it can be used (connected); undefined otherwise. */
export type ManagerConnection = () => NatsConnection | undefined;
