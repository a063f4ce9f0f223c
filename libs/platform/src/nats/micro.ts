import { Svcm, type Endpoint, type Service, type ServiceMsg } from '@nats-io/services';
import { networkInterfaces, hostname } from 'node:os';
import type { NatsConnection } from '@nats-io/nats-core';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { AcefleetError, decodeMessage } from '@acefleet/contracts';
import { DeliveryGuard } from './delivery-guard.ts';
import type { Logger } from '../logger.ts';
import { encodeJson } from './nats.ts';

export interface ServiceSpec {
  name: string;
  version: string;
  description: string;
  /** Where this instance's HTTP (health, metrics, API) listens; shown by `nats micro info`. */
  httpAddress: string;
  instanceId: string;
}

/** Where a service says it is reached, for the services that have no PUBLIC_URL of their own yet. */
export const AnnounceConfig = {
  publicUrl: Type.String({
    default: '',
    pattern: '^(https?://[^/?#@\\s]+/?)?$',
    description:
      "this service's HTTP address as others reach it (`http://host:port`), announced in `$SRV.INFO`; empty: the bound address, or the host's primary address when bound to every interface",
  }),
};

/** The first non-loopback IPv4 address of this host (its primary one), else its host name. */
function primaryAddress(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    const found = addresses?.find((a) => !a.internal && a.family === 'IPv4');
    if (found) return found.address;
  }
  return hostname();
}

/** Hosts that mean "every interface" when bound, and are reachable by nobody when announced. */
const ANY_ADDRESS = new Set(['0.0.0.0', '::', '[::]', '']);

/**
 * The HTTP address a service announces (`$SRV.INFO` metadata `http`): PUBLIC_URL when set; else the bound
 * host and port, except that a service bound to every interface announces the host's primary address (never
 * `0.0.0.0`, which nobody can reach, nor `127.0.0.1`, which every other host reads as itself).
 */
export function announcedAddress(host: string, port: number, publicUrl = ''): string {
  if (publicUrl) return publicUrl.replace(/\/+$/, '');
  const shown = ANY_ADDRESS.has(host) ? primaryAddress() : host;
  return `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`;
}

/** What acefleet measures per endpoint: the whole async handling, not only its synchronous start. */
interface EndpointAccount {
  requests: number;
  errors: number;
  lastError: string;
  processingNs: number;
}

/** The library's per-endpoint stats record, which its statsHandler hook is handed with the endpoint. */
interface LibraryEndpointStats {
  num_requests: number;
  num_errors: number;
  last_error?: string;
  processing_time: number;
  average_processing_time: number;
}

const accounts = new WeakMap<Service, Map<string, EndpointAccount>>();

/**
 * Register a NATS micro service (discoverable through $SRV.PING/INFO/STATS). @nats-io/services times only the
 * synchronous part of a callback handler and leaves `last_error` out until a first error, which the nats CLI
 * rejects; the stats hook below reports acefleet's own accounting instead, as integers in nanoseconds.
 */
export async function addMicroService(nc: NatsConnection, spec: ServiceSpec): Promise<Service> {
  const byEndpoint = new Map<string, EndpointAccount>();
  const service = await new Svcm(nc).add({
    name: spec.name,
    version: spec.version,
    description: spec.description,
    metadata: { http: spec.httpAddress, instance: spec.instanceId },
    statsHandler: (endpoint: Endpoint) => {
      const lib = (endpoint as Endpoint & { stats?: LibraryEndpointStats }).stats;
      const own = byEndpoint.get(endpoint.subject);
      if (lib && own) {
        lib.num_requests = own.requests;
        lib.num_errors = own.errors;
        lib.last_error = own.lastError;
        lib.processing_time = own.processingNs;
        lib.average_processing_time = own.requests ? Math.round(own.processingNs / own.requests) : 0;
      } else if (lib) {
        lib.last_error ??= '';
      }
      return Promise.resolve(null);
    },
  });
  accounts.set(service, byEndpoint);
  return service;
}

/** Reply to a service request with a catalogue error: headers for the CLI, the JSON body for acefleet callers. */
export function respondWithError(msg: ServiceMsg, err: AcefleetError): void {
  msg.respondError(err.status, `${err.code}: ${err.message}`, encodeJson(err.toBody()));
}

/**
 * Add a JSON endpoint: the request is decoded and validated against `request` before `handler` sees it (with
 * the subject it came on, for endpoints whose last token names the caller), and anything thrown is answered
 * as a service error carrying a catalogue code. A JetStream delivery or a republished stream message is no
 * request: it is dropped unanswered and counted as an error (see deliveryRefusal). Callback handlers (not
 * iterators) keep the integer processing times the nats CLI expects.
 */
export function addJsonEndpoint<Req extends TSchema>(
  service: Service,
  log: Logger,
  endpoint: { name: string; subject: string; request: Req; queue?: string },
  handler: (req: Static<Req>, subject: string) => Promise<unknown>,
): void {
  const account: EndpointAccount = { requests: 0, errors: 0, lastError: '', processingNs: 0 };
  accounts.get(service)?.set(endpoint.subject, account);
  const guard = new DeliveryGuard(log);
  service.addEndpoint(endpoint.name, {
    subject: endpoint.subject,
    ...(endpoint.queue ? { queue: endpoint.queue } : {}),
    handler: (err, msg) => {
      if (err) {
        log.error({ err, endpoint: endpoint.name }, 'endpoint stopped');
        return;
      }
      if (guard.refuses(msg, endpoint.subject, 'request')) {
        account.errors++;
        account.lastError = 'refused: not a request sent to this endpoint';
        return;
      }
      const started = process.hrtime.bigint();
      void (async () => {
        try {
          const req = decodeMessage(
            endpoint.request,
            msg.data.length ? msg.data : '{}',
            `${endpoint.name} request`,
          );
          msg.respond(encodeJson(await handler(req, msg.subject)));
        } catch (e) {
          const mapped =
            e instanceof AcefleetError ? e : new AcefleetError('internal', 'internal error', { cause: e });
          if (mapped.code === 'internal') log.error({ err: e, endpoint: endpoint.name }, 'endpoint failed');
          account.errors++;
          account.lastError = `${mapped.code}: ${mapped.message}`;
          respondWithError(msg, mapped);
        } finally {
          account.requests++;
          account.processingNs += Number(process.hrtime.bigint() - started);
        }
      })();
    },
  });
}
