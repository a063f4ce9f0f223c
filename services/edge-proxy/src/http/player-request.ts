import type { FastifyRequest } from 'fastify';
import { parseSelector, type StreamSelector } from '../session/selector.ts';

export type Query = Record<string, string | string[] | undefined>;

/**
 * The request's selector. Parameters the proxy ignored (`pid`, `token`, a player's own) are logged by name,
 * never with their values, at debug: players send them all the time.
 */
export function playerSelector(req: FastifyRequest<{ Querystring: Query }>): StreamSelector {
  const selector = parseSelector(req.query);
  if (selector.dropped.length > 0) req.log.debug({ dropped: selector.dropped }, 'player parameters ignored');
  return selector;
}
