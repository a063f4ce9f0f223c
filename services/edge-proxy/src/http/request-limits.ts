import type { FastifyInstance } from 'fastify';
import { AcefleetError } from '@acefleet/contracts';

export interface RequestLimits {
  maxUrlLength: number;
}

/**
 * The length of a request's target (414), checked before its route. The limits every service shares (header
 * size, request-head timeout, connection cap) are the HTTP app's own (libs/platform buildHttpApp).
 */
export function requestLimits(app: FastifyInstance, limits: RequestLimits): void {
  app.addHook('onRequest', async (req) => {
    if (req.raw.url !== undefined && req.raw.url.length > limits.maxUrlLength) {
      throw new AcefleetError('url_too_long', `the URL is longer than ${limits.maxUrlLength} bytes`);
    }
  });
}
