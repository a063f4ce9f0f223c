import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import {
  EngineState,
  Id,
  ListReply,
  StatusReply,
  StreamsReply,
  VpnReply,
  type EngineRecord,
} from '@acefleet/contracts';
import { claimedStreams } from '../claims/claimed-streams.ts';

const EngineQuery = Type.Object({ state: Type.Optional(EngineState), host: Type.Optional(Id) });
const StreamQuery = Type.Object({
  engine: Type.Optional(Id),
  /** A content id or infohash (40 hex), or a content key `id:<hex>` / `infohash:<hex>`. */
  content: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  proxy: Type.Optional(Id),
  host: Type.Optional(Id),
});

export interface FleetReads {
  /** Every engine of the fleet (all hosts). */
  records: () => EngineRecord[];
  status: () => StatusReply;
  vpn: () => VpnReply;
}

/**
 * The reading routes: engines (`?state=&host=`; an engine failing its probes has state `unhealthy`), streams
 * (the claims proxies hold, `?engine=&content=&proxy=&host=`), this host's status and its VPN.
 */
export function fleetRoutes(app: FastifyInstance, reads: FleetReads): void {
  app.get<{ Querystring: Static<typeof EngineQuery> }>(
    '/api/engines',
    {
      schema: { summary: 'Engines of the fleet', querystring: EngineQuery, response: { 200: ListReply } },
    },
    async (req): Promise<ListReply> => {
      const { state, host } = req.query;
      const engines = reads
        .records()
        .filter(
          (e) => (state === undefined || e.state === state) && (host === undefined || e.hostId === host),
        );
      return { engines };
    },
  );
  app.get<{ Querystring: Static<typeof StreamQuery> }>(
    '/api/streams',
    {
      schema: {
        summary: 'Streams of the fleet: one per engine claim a proxy holds',
        querystring: StreamQuery,
        response: { 200: StreamsReply },
      },
    },
    async (req): Promise<StreamsReply> => ({ streams: claimedStreams(reads.records(), req.query) }),
  );
  app.get(
    '/api/status',
    {
      schema: {
        summary: "This host's engines, breaker, VPN and whether (and why not) it can provision",
        response: { 200: StatusReply },
      },
    },
    async () => reads.status(),
  );
  app.get(
    '/api/vpn',
    { schema: { summary: "The VPN this host's engines use", response: { 200: VpnReply } } },
    async () => reads.vpn(),
  );
}
