import { createHash, timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AcefleetError } from '@acefleet/contracts';

/** Who may call a route: anyone, readers (key needed off loopback unless public), or key holders only. */
export type Access = 'open' | 'read' | 'write';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Overrides the access a route gets from its method (GET/HEAD read, the rest write). */
    access?: Access;
  }
}

/** The CommonConfig fields the policy reads, plus the path prefixes a service leaves open to anyone. */
export interface AccessOptions {
  apiKey: string;
  publicRead: boolean;
  httpHost: string;
  corsOrigin: string;
  /** Route prefixes open to anyone, e.g. the proxy's player routes `/ace/`. */
  openPaths?: string[];
}

const READ_METHODS = new Set(['GET', 'HEAD']);

/** 127.0.0.0/8, ::1 (also as ::ffff:127.x) and localhost: addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return net.isIPv4(v4) && v4.startsWith('127.');
}

/** Compare two secrets in time that depends on neither: equal-length digests, then timingSafeEqual. */
export function secretsEqual(given: string, expected: string): boolean {
  const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** The key of `Authorization: Bearer <key>`, or undefined when the header is absent or of another scheme. */
function bearerOf(req: FastifyRequest): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return match?.[1];
}

/** The access a route gets: declared in its config, open under an open prefix, else by its method. */
export function routeAccess(
  method: string,
  url: string,
  declared: Access | undefined,
  openPaths: string[],
): Access {
  if (declared) return declared;
  if (openPaths.some((prefix) => url.startsWith(prefix))) return 'open';
  return READ_METHODS.has(method) ? 'read' : 'write';
}

function accessOf(req: FastifyRequest, openPaths: string[]): Access {
  return routeAccess(req.method, req.routeOptions.url ?? '', req.routeOptions.config.access, openPaths);
}

/**
 * Why the request may not reach its route, or undefined when it may: writes need the key (none configured:
 * writes are off), reads need it too when the service listens off loopback and reads are not public.
 */
function refusalOf(req: FastifyRequest, opts: AccessOptions, readsOpen: boolean): AcefleetError | undefined {
  const access = accessOf(req, opts.openPaths ?? []);
  if (access === 'open' || (access === 'read' && readsOpen)) return undefined;
  if (!opts.apiKey) {
    return new AcefleetError(
      'forbidden',
      access === 'write'
        ? 'state-changing routes are disabled: this service has no API_KEY configured'
        : 'reading routes off loopback need a key, and this service has no API_KEY configured (or set PUBLIC_READ=true)',
    );
  }
  const given = bearerOf(req);
  if (given === undefined) {
    return new AcefleetError('unauthorized', 'this route needs "Authorization: Bearer <API_KEY>"');
  }
  return secretsEqual(given, opts.apiKey) ? undefined : new AcefleetError('forbidden', 'wrong API key');
}

/**
 * CORS for one configured origin: its requests get Access-Control-Allow-Origin, its preflights are
 * answered before the key is checked (browsers send no Authorization on a preflight). Off when no origin
 * is configured: no CORS header at all.
 */
function allowOrigin(app: FastifyInstance, origin: string): void {
  app.addHook('onRequest', async (req, reply) => {
    if (req.headers.origin !== origin && origin !== '*') return;
    reply.header('access-control-allow-origin', origin).header('vary', 'origin');
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method']) {
      return reply
        .code(204)
        .header('access-control-allow-methods', 'GET, HEAD, POST, DELETE')
        .header('access-control-allow-headers', 'authorization, content-type')
        .header('access-control-max-age', '600')
        .send();
    }
  });
}

/** Install the access policy (and CORS, when configured) on an app; routes added later are covered. */
export function applyAccessPolicy(app: FastifyInstance, opts: AccessOptions): void {
  if (opts.corsOrigin) allowOrigin(app, opts.corsOrigin);
  const readsOpen = opts.publicRead || isLoopbackHost(opts.httpHost);
  app.addHook('onRequest', async (req, reply) => {
    const refusal = refusalOf(req, opts, readsOpen);
    if (!refusal) return;
    if (refusal.code === 'unauthorized') reply.header('www-authenticate', 'Bearer');
    throw refusal;
  });
}
