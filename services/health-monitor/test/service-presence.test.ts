import test from 'ava';
import { ObservabilitySubjects, ServiceNames, type ServicePresence } from '@acefleet/contracts';
import { addMicroService } from '@acefleet/platform';
import { collectEvents, waitFor } from '@acefleet/testkit';
import { startMonitorWorld, type MonitorWorld } from './helpers.ts';

let world: MonitorWorld;
test.before(async () => {
  world = await startMonitorWorld(0, {
    EXPECTED_SERVICES: `${ServiceNames.healthMonitor},${ServiceNames.stats}`,
    SERVICE_CHECK_INTERVAL_MS: '300',
    SERVICE_CHECK_WAIT_MS: '200',
  });
});
test.after.always(async () => {
  await world?.close();
});

test('health-monitor - a service that stops answering $SRV.PING is reported missing, and present when back', async (t) => {
  const presence = await collectEvents<ServicePresence>(world.nc, ObservabilitySubjects.servicePresence);
  const first = await waitFor(() => presence.events[0]?.data ?? false, 5000);
  t.deepEqual(first.missing, [ServiceNames.stats]);
  t.true(first.present.some((p) => p.name === ServiceNames.healthMonitor));
  const api = (await (await fetch(`${world.monitor.url}/api/services`)).json()) as ServicePresence;
  t.deepEqual(api.missing, [ServiceNames.stats]);
  const metrics = await (await fetch(`${world.monitor.url}/metrics`)).text();
  t.regex(metrics, /acefleet_health_service_instances\{service="acefleet-stats"[^}]*\} 0/);

  const stats = await addMicroService(world.nc, {
    name: ServiceNames.stats,
    version: '0.1.0',
    description: 'stand-in',
    httpAddress: 'http://127.0.0.1:1',
    instanceId: 'stand-in',
  });
  const back = await waitFor(() => presence.events[1]?.data ?? false, 5000);
  t.deepEqual(back.missing, []);

  await stats.stop();
  const gone = await waitFor(() => presence.events[2]?.data ?? false, 5000);
  t.deepEqual(gone.missing, [ServiceNames.stats]);
  await presence.stop();
});
