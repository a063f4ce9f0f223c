import type { FastifyInstance } from 'fastify';
import type { ServerResponse } from 'node:http';
import { AcefleetError } from '@acefleet/contracts';
import { errorResponse, toAcefleetError } from '@acefleet/platform';
import type { Admission } from '../admission.ts';
import type { StreamHub } from '../hub.ts';
import { playerSelector, type Query } from './player-request.ts';

/** Write a catalogue error on a hijacked response (fastify no longer sends for us). */
function writeError(res: ServerResponse, err: AcefleetError): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const { status, headers, body } = errorResponse(err);
  res.writeHead(status, headers).end(JSON.stringify(body));
}

/** GET /ace/getstream: Acexy-compatible MPEG-TS, one upstream per stream key shared by every player. */
export function streamRoutes(
  app: FastifyInstance,
  hub: StreamHub,
  admission: Admission,
  isClosing: () => boolean,
): void {
  for (const url of ['/ace/getstream', '/ace/getstream/']) {
    app.route<{ Querystring: Query }>({
      method: 'GET',
      url,
      exposeHeadRoute: false,
      handler: async (req, reply) => {
        const requestedAt = process.hrtime.bigint();
        const selector = playerSelector(req);
        if (isClosing())
          throw new AcefleetError('shutting_down', 'the proxy is shutting down', { retryAfterMs: 1000 });
        const opensStream = hub.get(selector.key) === undefined;
        const release = admission.admit(req.ip, selector.key, { opensStream, asPlayer: true });
        reply.raw.once('close', release);
        const stream = hub.open(selector);
        reply.hijack();
        try {
          await stream.attach(req.raw.socket, requestedAt);
        } catch (err) {
          const mapped = toAcefleetError(err);
          req.log.info({ code: mapped.code, content: selector.content.value }, 'stream request failed');
          writeError(reply.raw, mapped);
        }
      },
    });
    app.head<{ Querystring: Query }>(url, async (req, reply) => {
      playerSelector(req);
      return reply.code(200).type('video/mp2t').send();
    });
  }
}
