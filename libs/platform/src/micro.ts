import { Svcm, type Service, type ServiceMsg } from '@nats-io/services';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Static, TSchema } from '@sinclair/typebox';
import { AcefleetError, decodeMessage } from '@acefleet/contracts';
import type { Logger } from './logger.ts';
import { encodeJson } from './nats.ts';

export interface ServiceSpec {
  name: string;
  version: string;
  description: string;
  /** Where this instance's HTTP (health, metrics, API) listens; shown by `nats micro info`. */
  httpAddress: string;
  instanceId: string;
}

/** Register a NATS micro service (discoverable through $SRV.PING/INFO/STATS). */
export async function addMicroService(nc: NatsConnection, spec: ServiceSpec): Promise<Service> {
  return new Svcm(nc).add({
    name: spec.name,
    version: spec.version,
    description: spec.description,
    metadata: { http: spec.httpAddress, instance: spec.instanceId },
  });
}

/** Reply to a service request with a catalogue error: headers for the CLI, the JSON body for acefleet callers. */
export function respondWithError(msg: ServiceMsg, err: AcefleetError): void {
  msg.respondError(err.status, `${err.code}: ${err.message}`, encodeJson(err.toBody()));
}

/**
 * Add a JSON endpoint: the request is decoded and validated against `request` before `handler` sees it,
 * and anything thrown is answered as a service error carrying a catalogue code. Callback handlers (not
 * iterators) keep the integer processing times the nats CLI expects.
 */
export function addJsonEndpoint<Req extends TSchema>(
  service: Service,
  log: Logger,
  endpoint: { name: string; subject: string; request: Req; queue?: string },
  handler: (req: Static<Req>) => Promise<unknown>,
): void {
  service.addEndpoint(endpoint.name, {
    subject: endpoint.subject,
    ...(endpoint.queue ? { queue: endpoint.queue } : {}),
    handler: (err, msg) => {
      if (err) {
        log.error({ err, endpoint: endpoint.name }, 'endpoint stopped');
        return;
      }
      void (async () => {
        try {
          const req = decodeMessage(
            endpoint.request,
            msg.data.length ? msg.data : '{}',
            `${endpoint.name} request`,
          );
          msg.respond(encodeJson(await handler(req)));
        } catch (e) {
          const mapped =
            e instanceof AcefleetError ? e : new AcefleetError('internal', 'internal error', { cause: e });
          if (mapped.code === 'internal') log.error({ err: e, endpoint: endpoint.name }, 'endpoint failed');
          respondWithError(msg, mapped);
        }
      })();
    },
  });
}
