import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AcefleetError, type PlayerIdentity, type PlayerTokenRecord } from '@acefleet/contracts';
import type { TokenDirectory } from '@acefleet/player-tokens';

/** Who asks, as the player routes know it once the gate let the request in. */
export interface Player {
  /** What admission counts streams against: the token (its own limit), else the address. */
  client: { key: string; maxStreams: number };
  /** The token the request came with, checked; undefined without one (or with an unknown one when auth is off). */
  token?: PlayerTokenRecord;
  /** The token as presented, to carry into playlist and lineup URLs; never logged. */
  presented?: string;
  identity: PlayerIdentity;
}

export interface PlayerGateOptions {
  /** `required`: a valid token or 401; `off`: anyone, and a valid token still names the player. */
  mode: 'required' | 'off';
  maxStreamsPerClient: number;
  /** The tokens bucket's live copy, once NATS is connected. */
  tokens: () => TokenDirectory | undefined;
  /** Whether a route (its URL pattern) is a player route the gate guards. */
  guards: (routeUrl: string) => boolean;
}

const players = new WeakMap<FastifyRequest, Player>();
const USER_AGENT_MAX = 300;

/** The player of a request the gate let in. */
export function playerOf(req: FastifyRequest): Player {
  const player = players.get(req);
  if (!player) throw new AcefleetError('internal', `no player identified for ${req.routeOptions.url ?? ''}`);
  return player;
}

/** `?token=`, then the `:token` of a path (`/hdhr/<token>/…`), then `Authorization: Bearer`. */
function presentedToken(req: FastifyRequest): string | undefined {
  const fromQuery = (req.query as Record<string, unknown> | undefined)?.token;
  if (Array.isArray(fromQuery)) throw new AcefleetError('bad_request', '"token" is given more than once');
  if (typeof fromQuery === 'string' && fromQuery !== '') return fromQuery;
  const fromPath = (req.params as Record<string, unknown> | undefined)?.token;
  if (typeof fromPath === 'string' && fromPath !== '') return fromPath;
  return /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
}

/**
 * Who may play: with PLAYER_AUTH=required, every player route needs a valid player token, checked against
 * the tokens bucket's live copy (a revoked token is refused as soon as the copy hears of it). The player
 * (token name or address, user agent) is then known to the route through playerOf. Limits follow the token.
 */
export class PlayerGate {
  constructor(private readonly opts: PlayerGateOptions) {}

  install(app: FastifyInstance): void {
    // preValidation: after routing (params are known), before the handler.
    app.addHook('preValidation', async (req, reply) => {
      if (!this.opts.guards(req.routeOptions.url ?? '')) return;
      try {
        players.set(req, this.identify(req));
      } catch (err) {
        if (err instanceof AcefleetError && err.status === 401) {
          reply.header('www-authenticate', 'Bearer realm="acefleet players"');
        }
        throw err;
      }
    });
  }

  identify(req: FastifyRequest): Player {
    const identity: PlayerIdentity = {
      address: req.ip,
      userAgent: (req.headers['user-agent'] ?? '').slice(0, USER_AGENT_MAX),
    };
    const anonymous: Player = {
      client: { key: `address:${req.ip}`, maxStreams: this.opts.maxStreamsPerClient },
      identity,
    };
    const presented = presentedToken(req);
    if (presented === undefined) {
      if (this.opts.mode === 'off') return anonymous;
      throw new AcefleetError(
        'unauthorized',
        'this proxy needs a player token: add ?token=<token> or send Authorization: Bearer <token>',
      );
    }
    const tokens = this.opts.tokens();
    if (!tokens) {
      if (this.opts.mode === 'off') return anonymous;
      throw new AcefleetError('control_plane_unavailable', 'player tokens are not loaded yet', {
        retryAfterMs: 2000,
      });
    }
    let token: PlayerTokenRecord;
    try {
      token = tokens.verify(presented);
    } catch (err) {
      if (this.opts.mode === 'off') {
        req.log.debug({ reason: (err as Error).message }, 'player token ignored (PLAYER_AUTH=off)');
        return anonymous;
      }
      throw err;
    }
    return {
      client: { key: `token:${token.name}`, maxStreams: token.maxStreams },
      token,
      presented,
      identity: { ...identity, token: token.name },
    };
  }
}
