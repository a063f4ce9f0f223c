import type { NatsConnection } from '@nats-io/nats-core';
import { Subjects, type EngineDraining } from '@acefleet/contracts';

/**
 * Announce that engine `engineId` drains, as its manager would (engine.draining, deadline `deadlineMs` from
 * now): the proxies move its streams. For proxies running without a manager (static engines).
 */
export async function announceDraining(
  nc: NatsConnection,
  engineId: string,
  deadlineMs = 60_000,
): Promise<void> {
  const draining: EngineDraining = {
    engineId,
    hostId: 'test',
    reason: 'admin',
    deadline: new Date(Date.now() + deadlineMs).toISOString(),
    claims: [],
    at: new Date().toISOString(),
  };
  nc.publish(Subjects.engineDraining, JSON.stringify(draining));
  await nc.flush();
}
