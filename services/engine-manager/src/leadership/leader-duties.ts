import type { Service } from '@nats-io/services';
import { ServiceNames, Subjects } from '@acefleet/contracts';
import { addMicroService, type Logger, type NatsConnection } from '@acefleet/platform';
import type { ManagerConfig } from '../config.ts';
import { registerEndpoints, type EndpointDeps } from '../api/endpoints.ts';
import type { HealthReplacer } from '../lifecycle/health-replacer.ts';
import type { Leadership } from './leader-lease.ts';
import type { Reconciler } from '../lifecycle/reconciler.ts';

export interface DutyDeps {
  nc: NatsConnection;
  config: Pick<ManagerConfig, 'instanceId' | 'maintenanceIntervalMs' | 'resyncIntervalMs'>;
  log: Logger;
  httpAddress: string;
  reconciler: Reconciler;
  health: HealthReplacer;
  endpoints: EndpointDeps;
  /** Lease sweep, drains, health replacement, autoscaling: one pass. */
  maintenance: (ledSince: number) => Promise<void>;
  /** Whether we still lead: a loop step that wakes after the lease ran out (a paused process) does nothing. */
  leading: () => boolean;
}

/** Run `step` every `ms`, never two at once; returns the stopper. */
function every(ms: number, step: () => Promise<void>, log: Logger, name: string): () => void {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const run = async (): Promise<void> => {
    await step().catch((err: unknown) => log.warn({ err, loop: name }, 'control loop step failed'));
    if (!stopped) timer = setTimeout(() => void run(), ms);
  };
  timer = setTimeout(() => void run(), ms);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/**
 * What only the host's leader does: adopt the containers and claims (the reconciler), answer the micro-service
 * endpoints, follow Docker and health events, and run the maintenance and resync loops. A standby does none
 * of it and subscribes to no endpoint, so requests reach the leader only.
 */
export function leaderDuties(d: DutyDeps): Leadership {
  let service: Service | undefined;
  let stoppers: (() => void)[] = [];
  const whileLeading = (step: () => Promise<void>) => async () => {
    if (d.leading()) await step();
  };
  return {
    async elected() {
      const ledSince = Date.now();
      const maintain = whileLeading(() => d.maintenance(ledSince));
      await d.reconciler
        .reconcile()
        .catch((err: unknown) => d.log.error({ err }, 'takeover reconciliation failed'));
      service = await addMicroService(d.nc, {
        name: ServiceNames.engineManager,
        version: '0.2.0',
        description: 'Provisions AceStream engines on Docker and hands them out',
        httpAddress: d.httpAddress,
        instanceId: d.config.instanceId,
      });
      registerEndpoints(service, d.log, d.endpoints);
      const watching = new AbortController();
      void d.reconciler.follow(watching.signal);
      const healthEvents = d.health.follow(d.nc, Subjects.engineHealth);
      stoppers = [
        () => watching.abort(),
        () => void healthEvents.stop(),
        every(d.config.maintenanceIntervalMs, maintain, d.log, 'maintenance'),
        every(
          d.config.resyncIntervalMs,
          whileLeading(() => d.reconciler.reconcile()),
          d.log,
          'resync',
        ),
      ];
      void maintain().catch((err: unknown) =>
        d.log.warn({ err, loop: 'maintenance' }, 'control loop step failed'),
      );
    },
    async deposed() {
      for (const stop of stoppers.splice(0)) stop();
      await service?.stop();
      service = undefined;
    },
  };
}
