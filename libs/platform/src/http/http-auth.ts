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
  /** Host names (comma separated) the service is reached by, besides IP literals and localhost. */
  httpAllowedHosts: string;
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

/**
 * The key of `Authorization: Bearer <key>`, or undefined when the header holds no Bearer credential. As RFC
 * 6750 (2.1) writes it, `"Bearer" 1*SP b64token`: the scheme is a case-insensitive token (RFC 9110 11.1,
 * and an ABNF string is case-insensitive), then one or more spaces (no tab, no line break), then one token of
 * letters, digits and `-._~+/` with `=` padding only at its end, and nothing after it (no second token, no
 * quotes, no auth-params). Node trims the header's leading and trailing white space.
 */
export function bearerOf(authorization: string | undefined): string | undefined {
  return /^bearer +([A-Za-z0-9._~+/-]+=*)$/i.exec(authorization ?? '')?.[1];
}

/** The host part of a Host header: `name`, `1.2.3.4`, `[::1]` without its port, lower case. */
function hostNameOf(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.lastIndexOf(':');
  return colon < 0 ? h : h.slice(0, colon);
}

/**
 * Whether a request's Host may reach a route that is not open to anyone: an IP literal, `localhost`, or one of
 * the configured names (HTTP_ALLOWED_HOSTS, and HTTP_HOST when it is a name). A page of another site that
 * rebinds its own name to 127.0.0.1 sends that name, so the answer never reaches it (DNS rebinding). A request
 * without Host (HTTP/1.0) is let through: browsers always send one.
 */
export function hostAllowed(host: string | undefined, names: ReadonlySet<string>): boolean {
  if (host === undefined || host === '') return true;
  const name = hostNameOf(host);
  return name === 'localhost' || net.isIP(name.replace(/^\[|\]$/g, '')) !== 0 || names.has(name);
}

/** HTTP_ALLOWED_HOSTS, plus HTTP_HOST when it is a name. */
function allowedHostNames(opts: AccessOptions): Set<string> {
  const names = opts.httpAllowedHosts
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  if (net.isIP(opts.httpHost) === 0) names.push(opts.httpHost.toLowerCase());
  return new Set(names);
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
 * Why the request may not reach its route, or undefined when it may: a route that is not open answers only
 * for an allowed Host; writes need the key (none configured: writes are off), and so do reads, unless they
 * come from this machine's loopback or reads are public (PUBLIC_READ).
 */
function refusalOf(
  req: FastifyRequest,
  opts: AccessOptions,
  hostNames: ReadonlySet<string>,
): AcefleetError | undefined {
  const access = accessOf(req, opts.openPaths ?? []);
  if (access === 'open') return undefined;
  if (!hostAllowed(req.headers.host, hostNames)) {
    return new AcefleetError(
      'host_not_allowed',
      'this Host is not one this service answers for: use an IP address, localhost, or a name in HTTP_ALLOWED_HOSTS',
    );
  }
  if (access === 'read' && (opts.publicRead || isLoopbackHost(req.ip))) return undefined;
  if (!opts.apiKey) {
    return new AcefleetError(
      'forbidden',
      access === 'write'
        ? 'state-changing routes are disabled: this service has no API_KEY configured'
        : 'reading routes from anywhere but loopback need a key, and this service has no API_KEY configured (or set PUBLIC_READ=true)',
    );
  }
  const given = bearerOf(req.headers.authorization);
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
  const hostNames = allowedHostNames(opts);
  app.addHook('onRequest', async (req, reply) => {
    const refusal = refusalOf(req, opts, hostNames);
    if (!refusal) return;
    if (refusal.code === 'unauthorized') reply.header('www-authenticate', 'Bearer');
    throw refusal;
  });
}
