import type { FastifyRequest } from 'fastify';
import { AcefleetError } from '@acefleet/contracts';
import { playerOf } from '../players/player-gate.ts';

const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*\.?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * The proxy's address as this player reaches it, for the URLs written into playlists, guides and HDHomeRun
 * answers: PUBLIC_URL when set, else the request's scheme and Host (X-Forwarded-Proto and -Host from a
 * TRUSTED_PROXIES address). A Host that is no host name is refused rather than written into URLs.
 */
export function publicAddress(req: FastifyRequest, publicUrl: string): string {
  if (publicUrl) return publicUrl.replace(/\/+$/, '');
  const host = req.host;
  if (!host || !HOST.test(host)) {
    throw new AcefleetError(
      'bad_request',
      'the Host header is not a host name (set PUBLIC_URL to name the proxy)',
    );
  }
  return `${req.protocol}://${host}`;
}

/** `?token=…` (or `&token=…` after `join`) when the player came with a token, else nothing. */
export function tokenParam(req: FastifyRequest, join: '?' | '&'): string {
  const token = playerOf(req).presented;
  return token ? `${join}token=${encodeURIComponent(token)}` : '';
}
