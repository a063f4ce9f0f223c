import type { FastifyRequest } from 'fastify';
import { parseSelector, type StreamSelector } from '../selector.ts';

export type Query = Record<string, string | string[] | undefined>;

/** The request's selector; parameters the proxy ignored are logged by name (never their values). */
export function playerSelector(req: FastifyRequest<{ Querystring: Query }>): StreamSelector {
  const selector = parseSelector(req.query);
  if (selector.dropped.length > 0) req.log.info({ dropped: selector.dropped }, 'player parameters ignored');
  return selector;
}
