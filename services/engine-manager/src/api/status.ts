import type { StatusReply } from '@acefleet/contracts';
import type { CircuitBreaker } from '../runtime/breaker.ts';
import { isFree } from '../claims/placement.ts';
import type { Provisioner } from '../lifecycle/provisioner.ts';
import type { VpnWatcher } from '../runtime/vpn.ts';

/** This host's status: what runs, the breaker, the VPN, and whether (and why not) it can provision. */
export function statusOf(
  provisioner: Provisioner,
  breaker: CircuitBreaker,
  vpn: VpnWatcher | undefined,
  facts: Pick<StatusReply, 'hostId' | 'instanceId' | 'role' | 'limits'>,
): StatusReply {
  const records = provisioner.ours().map((e) => e.record);
  const byState: Record<string, number> = {};
  for (const r of records) byState[r.state] = (byState[r.state] ?? 0) + 1;
  const refusal = provisioner.refusal();
  return {
    ...facts,
    engines: { total: records.length, byState, free: records.filter(isFree).length },
    claims: records.reduce((n, r) => n + r.claims.length, 0),
    breaker: breaker.snapshot(),
    ...(vpn ? { vpn: vpn.state } : {}),
    canProvision: refusal === undefined,
    ...(refusal ? { reason: refusal.message } : {}),
  };
}
